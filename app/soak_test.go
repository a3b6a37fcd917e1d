package app

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/internal/testkit"
)

var (
	soakDuration = flag.Duration("soak.duration", 5*time.Second, "how long TestSoak sends callbacks; docs/security.md's soak is 10m")
	soakRate     = flag.Int("soak.rate", 200, "callbacks a second TestSoak sends, faults included")
)

const (
	soakToken = "0123456789abcdef0123456789abcdef"
	soakBase  = "https://cc.example.com"

	// soakPolicyA and soakPolicyB decide every callback the soak sends the
	// same way; B only adds a rule that never matches, so that each rewrite
	// is a real reload with a new hash. soakPolicyBad is refused, and the
	// running policy stays.
	soakPolicyA = `version: 1
rules:
  - name: chat
    when: task.channel == "chat"
    instruction: accept
  - name: conf
    when: task.type == "conference"
    instruction: conference
    mode: update
    params: {from: "+15005550006", record: true}
  - name: callbacks
    when: task.type == "callback"
    instruction: call
    params: {from: "+15005550006", url: "https://ops.example.com/twiml?task={{callback.TaskSid}}", to: "{{worker.contact_uri}}"}
  - name: default
    instruction: dequeue
    params: {from: "+15005550006", to: "client:soak"}
`
	soakPolicyBad = "version: 1\nrules:\n  - name: broken\n    when: task.x ==\n    instruction: accept\n"
)

// soakPolicyB is soakPolicyA with a first rule that never matches.
var soakPolicyB = strings.Replace(soakPolicyA, "rules:\n",
	"rules:\n  - name: never\n    when: task.never == true\n    instruction: reject\n", 1)

// soakKind is one kind of request in the soak's mix.
type soakKind int

const (
	soakBadSignature soakKind = iota
	soakUnsigned
	soakMalformedCallback
	soakMalformedForm
	soakWrongType
	soakConference
	soakCall
	soakAccept
	soakDequeue
	soakKinds
)

var soakKindNames = [soakKinds]string{"bad signature", "unsigned", "malformed callback", "malformed form", "wrong content type", "conference (update)", "call (respond)", "accept (respond)", "dequeue (respond)"}

// soakMix is the order kinds are sent in, over and over: a quarter faults.
var soakMix = []soakKind{
	soakCall, soakAccept, soakBadSignature, soakDequeue, soakConference,
	soakAccept, soakMalformedCallback, soakCall, soakDequeue, soakUnsigned,
	soakAccept, soakConference, soakDequeue, soakMalformedForm, soakCall,
	soakAccept, soakDequeue, soakWrongType, soakConference, soakDequeue,
}

// soakRequest is the request for the i-th tick and the exact answer it must get.
func soakRequest(base string, i int) (kind soakKind, req *http.Request, code int, body string) {
	kind = soakMix[i%len(soakMix)]
	sid := fmt.Sprintf("%032x", i)
	form := url.Values{
		"AccountSid":       {"AC11111111111111111111111111111111"},
		"WorkspaceSid":     {"WS22222222222222222222222222222222"},
		"TaskSid":          {"WT" + sid},
		"WorkerSid":        {"WK66666666666666666666666666666666"},
		"ReservationSid":   {"WR" + sid},
		"TaskAge":          {strconv.Itoa(i % 600)},
		"TaskPriority":     {"10"},
		"Timestamp":        {"1764371000"},
		"WorkflowSid":      {"WW33333333333333333333333333333333"},
		"TaskQueueSid":     {"WQ44444444444444444444444444444444"},
		"TaskAttributes":   {`{"language":"en"}`},
		"WorkerAttributes": {`{"contact_uri":"client:alice"}`},
	}
	contentType := "application/x-www-form-urlencoded"
	signed := true
	raw := ""
	switch kind {
	case soakBadSignature:
		code, body = 403, `{"error":"invalid signature"}`
	case soakUnsigned:
		signed = false
		code, body = 403, `{"error":"invalid signature"}`
	case soakMalformedCallback:
		form.Set("TaskAge", "soon")
		code, body = 400, `{"error":"TaskAge: must be a non-negative integer, not \"soon\"","field":"TaskAge"}`
	case soakMalformedForm:
		signed = false
		raw = form.Encode() + "&Broken=%zz"
		code, body = 400, `{"error":"body is not a valid form: invalid URL escape \"%zz\""}`
	case soakWrongType:
		contentType = "application/json"
		code, body = 415, `{"error":"content type must be application/x-www-form-urlencoded"}`
	case soakConference:
		form.Set("TaskAttributes", `{"type":"conference"}`)
		code, body = 200, ""
	case soakCall:
		form.Set("TaskAttributes", `{"type":"callback"}`)
		code, body = 200, `{"instruction":"call","from":"+15005550006","to":"client:alice","url":"https://ops.example.com/twiml?task=WT`+sid+`"}`
	case soakAccept:
		form.Set("TaskAttributes", `{"channel":"chat"}`)
		code, body = 200, `{"instruction":"accept"}`
	case soakDequeue:
		code, body = 200, `{"instruction":"dequeue","from":"+15005550006","to":"client:soak"}`
	}
	if raw == "" {
		raw = form.Encode()
	}
	req, err := http.NewRequest(http.MethodPost, base+handlers.AssignmentPath, strings.NewReader(raw))
	if err != nil {
		panic(err) // the URL is the test's own
	}
	req.Header.Set("Content-Type", contentType)
	switch {
	case kind == soakBadSignature:
		req.Header.Set(callback.SignatureHeader, testkit.Sign("fedcba9876543210fedcba9876543210", soakBase+handlers.AssignmentPath, form))
	case signed:
		req.Header.Set(callback.SignatureHeader, testkit.Sign(soakToken, soakBase+handlers.AssignmentPath, form))
	}
	return kind, req, code, body
}

// fakeTaskRouter is a slow, sometimes failing TaskRouter REST API: each
// request waits 0-50 ms, 5% get 429 and 3% 500. It counts the updates it
// applied by the tick that sent the callback (the reservation SID is
// "WR" and the tick in hex) in a slice allocated up front, so that the
// soak's own bookkeeping does not grow the process it measures.
type fakeTaskRouter struct {
	applied []atomic.Int32
	unknown atomic.Int64 // applied updates for a reservation the soak never sent
	faults  atomic.Int64
}

func (f *fakeTaskRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(rand.N(50 * time.Millisecond))
	r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	switch n := rand.IntN(100); {
	case n < 5:
		f.fault()
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"code":20429,"message":"Too Many Requests","status":429}`))
		return
	case n < 8:
		f.fault()
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"code":20500,"message":"Internal Server Error","status":500}`))
		return
	}
	sid := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	tick, err := strconv.ParseUint(strings.TrimPrefix(sid, "WR"), 16, 64)
	if r.PostForm.Get("Instruction") != "conference" || r.PostForm.Get("From") != "+15005550006" || r.PostForm.Get("Record") != "true" {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"code":20001,"message":"unexpected form","status":400}`))
		return
	}
	if err != nil || tick >= uint64(len(f.applied)) {
		f.unknown.Add(1)
	} else {
		f.applied[tick].Add(1)
	}
	fmt.Fprintf(w, `{"sid":%q,"reservation_status":"accepted"}`, sid)
}

func (f *fakeTaskRouter) fault() { f.faults.Add(1) }

// countingCore is a zap core that counts entries by level and message
// instead of keeping them, so that a long soak's logs take no memory.
type countingCore struct {
	mu     sync.Mutex
	counts map[string]int // "level message"
}

func (c *countingCore) Enabled(l zapcore.Level) bool      { return l >= zapcore.InfoLevel }
func (c *countingCore) With([]zapcore.Field) zapcore.Core { return c }
func (c *countingCore) Sync() error                       { return nil }
func (c *countingCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *countingCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[e.Level.String()+" "+e.Message]++
	return nil
}

func (c *countingCore) count(level zapcore.Level, msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[level.String()+" "+msg]
}

// startSoak is serve_test.go's start with a countingCore for a logger:
// observer's logs would keep every line of a long soak in memory.
func startSoak(t *testing.T, cfg *config.Config, core *countingCore) (callback, admin string, stop func()) {
	t.Helper()
	a, err := New(Options{Config: cfg, Logger: zap.New(core)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, nil) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	cbAddr, adminAddr := a.Addrs()
	return "http://" + cbAddr, "http://" + adminAddr, stop
}

// soakSample is one reading of the process's size.
type soakSample struct {
	at         time.Duration
	goroutines int
	rssKiB     int
	heapKiB    int // live and not yet swept heap objects
}

// sampleNow reads the process's size, at elapsed.
func sampleNow(elapsed time.Duration) soakSample {
	m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(m)
	heap := -1
	if m[0].Value.Kind() == metrics.KindUint64 {
		heap = int(m[0].Value.Uint64() >> 10)
	}
	return soakSample{elapsed, runtime.NumGoroutine(), rssKiB(), heap}
}

// rssKiB is VmRSS from /proc/self/status, or -1 where there is none.
func rssKiB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// quarterMax is the largest value of pick over the samples taken in the
// quarter [q/4, (q+1)/4) of a run of length d.
func quarterMax(samples []soakSample, d time.Duration, q int, pick func(soakSample) int) int {
	m := -1
	for _, s := range samples {
		if s.at >= d*time.Duration(q)/4 && s.at < d*time.Duration(q+1)/4 {
			m = max(m, pick(s))
		}
	}
	return m
}

// TestSoak runs serve, in signed mode with update-mode rules and a slow,
// sometimes failing fake TaskRouter, under a constant rate of callbacks
// with faults mixed in: bad and missing signatures, malformed callbacks and
// forms, wrong content types, and a policy file rewritten every second
// (between two versions that decide alike, and every fourth time a broken
// one), half of the rewrites also reloaded through POST /-/reload.
//
// Every request must get exactly its answer, and every update-mode
// reservation must reach TaskRouter exactly once. The first 20% of the run
// is warm-up; after it the goroutine count and RSS must not grow: the last
// quarter's maximum may exceed the second quarter's by at most 20% plus 20
// goroutines, or 20% plus 32 MiB.
//
// It runs for -soak.duration (default 5s) at -soak.rate requests a second
// (default 200); docs/security.md's soak is
//
//	go test -run TestSoak -soak.duration 10m .
func TestSoak(t *testing.T) {
	duration, rate := *soakDuration, *soakRate
	if duration <= 0 || rate <= 0 {
		t.Fatalf("-soak.duration %s and -soak.rate %d must be positive", duration, rate)
	}
	t.Setenv("TWILIO_EDGE", "")
	t.Setenv("TWILIO_REGION", "")
	// Every tick's bookkeeping is allocated here, before the run.
	maxTicks := int(duration.Seconds()*float64(rate)) + rate
	fake := &fakeTaskRouter{applied: make([]atomic.Int32, maxTicks)}
	fts := httptest.NewServer(fake)
	defer fts.Close()

	policyFile := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(soakPolicyA), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.PolicyFile = policyFile
	cfg.AuthToken = soakToken
	cfg.PublicBaseURL = soakBase
	cfg.AccountSid = "AC11111111111111111111111111111111"
	cfg.TaskRouterURL = fts.URL
	cfg.UpdateAttemptTimeout = 2 * time.Second
	core := &countingCore{counts: map[string]int{}}
	callback, admin, stop := startSoak(t, cfg, core)

	// Senders: enough for the rate at the latencies seen, and bounded.
	workers := min(max(rate/10, 8), 64)
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	type tally struct{ sent, right atomic.Int64 }
	var tallies [soakKinds]tally
	var mismatchMu sync.Mutex
	var mismatches []string
	updateAnswered := make([]bool, maxTicks) // written once per tick, by its sender
	jobs := make(chan int, rate)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				kind, req, code, body := soakRequest(callback, i)
				tallies[kind].sent.Add(1)
				err := soakCheck(client, req, code, body)
				if err == nil {
					tallies[kind].right.Add(1)
					if kind == soakConference {
						updateAnswered[i] = true
					}
					continue
				}
				mismatchMu.Lock()
				if len(mismatches) < 10 {
					mismatches = append(mismatches, fmt.Sprintf("#%d %s: %v", i, soakKindNames[kind], err))
				}
				mismatchMu.Unlock()
			}
		})
	}

	samples := make([]soakSample, 0, int(duration/max(duration/100, 100*time.Millisecond))+2)
	var rewrites, apiReloads atomic.Int64
	var reloads sync.WaitGroup
	start := time.Now()
	ticker := time.NewTicker(time.Second / time.Duration(rate))
	sampleEvery := max(duration/100, 100*time.Millisecond)
	nextSample, nextReload := start, start.Add(time.Second)
	late, sent := 0, 0
	for now := start; now.Sub(start) < duration && sent < maxTicks; now = <-ticker.C {
		select {
		case jobs <- sent:
		default:
			late++ // the senders fell behind: wait for them
			jobs <- sent
		}
		sent++
		if !now.Before(nextSample) {
			samples = append(samples, sampleNow(now.Sub(start)))
			nextSample = nextSample.Add(sampleEvery)
		}
		if !now.Before(nextReload) {
			n := rewrites.Add(1)
			src := []string{soakPolicyA, soakPolicyB}[n%2]
			if n%4 == 3 {
				src = soakPolicyBad
			}
			soakWritePolicy(t, policyFile, src)
			if n%2 == 0 {
				reloads.Go(func() {
					resp, err := http.Post(admin+"/-/reload", "application/json", nil)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						apiReloads.Add(1)
					}
				})
			}
			nextReload = nextReload.Add(time.Second)
		}
	}
	ticker.Stop()
	close(jobs)
	wg.Wait()
	reloads.Wait()
	took := time.Since(start)
	samples = append(samples, sampleNow(took))

	// Every update-mode reservation reaches TaskRouter, through its 429s
	// and 500s, exactly once, and nothing else does.
	deadline := time.Now().Add(30 * time.Second)
	for {
		want, missing, twice, extra, firstMissing := 0, 0, 0, 0, -1
		for i := range sent {
			n := fake.applied[i].Load()
			switch {
			case updateAnswered[i] && n == 0:
				missing++
				if firstMissing < 0 {
					firstMissing = i
				}
			case n > 1:
				twice++
			case !updateAnswered[i] && n > 0:
				extra++
			}
			if updateAnswered[i] {
				want++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			t.Logf("update mode: %d reservations applied at the fake TaskRouter after %d 429s and 500s", want-missing, fake.faults.Load())
			if missing > 0 {
				t.Errorf("%d of %d update-mode reservations never reached TaskRouter, e.g. WR%032x", missing, want, firstMissing)
			}
			if twice > 0 {
				t.Errorf("%d reservations were updated more than once", twice)
			}
			if n := int(fake.unknown.Load()) + extra; n > 0 {
				t.Errorf("TaskRouter applied %d updates for reservations not answered in update mode", n)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, scrape := get(t, admin+"/metrics")
	stop()

	// The answers.
	t.Logf("sent %d requests in %s (%.0f/s, target %d/s) with %d senders; %d ticks found the senders behind",
		sent, took.Round(time.Millisecond), float64(sent)/took.Seconds(), rate, workers, late)
	for k := range soakKinds {
		t.Logf("  %-20s %6d sent, %6d answered right", soakKindNames[k], tallies[k].sent.Load(), tallies[k].right.Load())
		if tallies[k].sent.Load() != tallies[k].right.Load() {
			t.Errorf("%s: %d of %d answered wrong", soakKindNames[k], tallies[k].sent.Load()-tallies[k].right.Load(), tallies[k].sent.Load())
		}
	}
	for _, m := range mismatches {
		t.Errorf("wrong answer: %s", m)
	}
	if late > sent/100 {
		t.Errorf("the senders fell behind on %d of %d ticks: the rate was not kept", late, sent)
	}

	// The faults really happened.
	t.Logf("policy: %d rewrites (%d through POST /-/reload); %s", rewrites.Load(), apiReloads.Load(),
		strings.ReplaceAll(grepLines(scrape, "assignd_policy_reloads_total"), "\n", ", "))
	if duration >= 2*time.Second && (!strings.Contains(scrape, `assignd_policy_reloads_total{policy="live",result="success"}`) || strings.Contains(scrape, `assignd_policy_reloads_total{policy="live",result="success"} 0`)) {
		t.Errorf("no successful reload during the soak:\n%s", grepLines(scrape, "assignd_policy_"))
	}
	for _, msg := range []string{"panic in handler", "request failed", "update queue is full", "respond-mode decision without a body"} {
		if n := core.count(zapcore.ErrorLevel, msg); n > 0 {
			t.Errorf("%d %q lines", n, msg)
		}
	}
	warns := core.count(zapcore.WarnLevel, "invalid signature") + core.count(zapcore.WarnLevel, "callback refused")
	t.Logf("logs: %d callbacks decided, %d malformed callbacks, %d rate-limited warnings for %d unsigned faults",
		core.count(zapcore.InfoLevel, "callback decided"), core.count(zapcore.WarnLevel, "malformed callback"), warns,
		tallies[soakBadSignature].sent.Load()+tallies[soakUnsigned].sent.Load()+tallies[soakMalformedForm].sent.Load()+tallies[soakWrongType].sent.Load())
	if limit := 5 + int(took/time.Second) + 1; warns > limit {
		t.Errorf("%d warn lines for unsigned faults in %s; the limiter allows %d", warns, took, limit)
	}

	// Growth.
	var lines []string
	for _, s := range samples {
		lines = append(lines, fmt.Sprintf("%6.1fs %5d goroutines %7d KiB RSS %7d KiB heap", s.at.Seconds(), s.goroutines, s.rssKiB, s.heapKiB))
	}
	t.Logf("samples (every %s):\n%s", sampleEvery, strings.Join(lines, "\n"))
	for _, c := range []struct {
		what  string
		pick  func(soakSample) int
		slack int
	}{
		{"goroutines", func(s soakSample) int { return s.goroutines }, 20},
		{"RSS KiB", func(s soakSample) int { return s.rssKiB }, 32 << 10},
		{"heap KiB", func(s soakSample) int { return s.heapKiB }, 16 << 10},
	} {
		q2, q4 := quarterMax(samples, took, 1, c.pick), quarterMax(samples, took, 3, c.pick)
		t.Logf("%s: second quarter max %d, last quarter max %d", c.what, q2, q4)
		if q2 < 0 || q4 < 0 {
			t.Errorf("%s: no samples to compare", c.what)
			continue
		}
		if limit := q2 + q2/5 + c.slack; q4 > limit {
			t.Errorf("%s grew: last quarter max %d > %d (second quarter max %d + 20%% + %d)", c.what, q4, limit, q2, c.slack)
		}
	}
}

// soakCheck sends req and reports how its answer differs from code and body.
func soakCheck(client *http.Client, req *http.Request, code int, body string) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != code || string(b) != body {
		return fmt.Errorf("got %d %s, want %d %s", resp.StatusCode, b, code, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("Content-Type %q", ct)
	}
	return nil
}

// soakWritePolicy replaces the policy file with src in one rename, as a
// ConfigMap update does, so that the watcher never reads half a file.
func soakWritePolicy(t *testing.T, path, src string) {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(src), 0o644); err != nil {
		t.Error(err)
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Error(err)
	}
}
