package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/decisionlog"
	"github.com/assignd/assignd/experiments"
	"github.com/assignd/assignd/explain"
	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/reservation"
	"github.com/assignd/assignd/shadow"
)

// fullPolicy has a calendar, a table and an update-mode rule, so that
// every panel of the console has something to show.
const fullPolicy = `version: 1
calendars:
  support:
    timezone: America/New_York
    hours:
      Mon-Fri: "08:00-20:00"
    holidays:
      - {date: "2026-12-25", name: Christmas Day}
tables:
  vip: {file: vip.csv, key: phone}
rules:
  - name: blocked-caller
    when: task.blocked == true
    instruction: reject
    params: {activity_sid: WA00000000000000000000000000000001}
  - name: vip
    when: task.from IN tables.vip
    instruction: dequeue
    mode: update
    params: {from: "+15005550006", to: "client:vip-desk", timeout: 30}
  - name: digital
    when: task.channel IN ["chat", "email"]
    instruction: accept
  - name: default
    instruction: dequeue
    params: {from: "+15005550006"}
`

// fullShadowPolicy disagrees with fullPolicy on chat.
const fullShadowPolicy = `version: 1
rules:
  - name: blocked-caller
    when: task.blocked == true
    instruction: reject
    params: {activity_sid: WA00000000000000000000000000000001}
  - name: email-only
    when: task.channel == "email"
    instruction: accept
  - name: default
    instruction: dequeue
    params: {from: "+15005550006"}
`

// fullToken signs the full environment's callbacks; fullBase is the public
// URL they are signed for.
const (
	fullToken = "console-test-token"
	fullBase  = "https://assign.example.com"
)

// fullEnv is the console with every panel configured: a signed callback
// listener with a shadow policy, reservation outcomes and a REST updater
// whose sender is fake, all feeding one registry, on a clock the test
// moves.
type fullEnv struct {
	callback, admin *httptest.Server
	decisions       *DecisionLog
	clock           *fakeClock
	policy          *policy.Policy
	shadow          *shadow.Evaluator
}

// fakeClock is a clock the test sets; safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func newFullEnv(t *testing.T) *fullEnv {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "vip.csv"), []byte("phone,desk\n+15005550100,a\n+15005550101,b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse(filepath.Join(dir, "policy.yaml"), []byte(fullPolicy))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := policy.Parse(filepath.Join(dir, "shadow.yaml"), []byte(fullShadowPolicy))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	store := newStore(t, reg)
	store.Set(p)
	shadowStore, err := policy.NewShadowStore(zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	shadowStore.Set(sp)
	env := &fullEnv{decisions: NewDecisionLog(), clock: &fakeClock{t: time.Now()}, policy: p}
	// The shadow decides on its own goroutine; a queue as large as the
	// traffic and a whole core keep it from dropping any of it here.
	sh, err := shadow.New(shadow.Options{Store: shadowStore, Logger: zap.NewNop(), Registerer: reg, Queue: 1 << 14, Share: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go sh.Run(ctx)
	env.shadow = sh
	tracker, err := outcome.New(outcome.Options{Capacity: 1000, TTL: 3 * time.Hour, Registerer: reg, Now: env.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	upd := newFakeUpdater(t, reg)
	cb, err := handlers.New(handlers.Options{Store: store, ShadowStore: shadowStore, Logger: zap.NewNop(), Registerer: reg,
		Config: &config.Config{AuthToken: fullToken, PublicBaseURL: fullBase}, Enqueue: upd.Enqueue, Outcomes: tracker,
		Now: env.clock.Now, AfterDecision: func(d *callback.Decided) {
			env.decisions.Observe(d)
			sh.Observe(d)
			tracker.Remember(d.Callback.ReservationSid, outcome.Entry{Rule: d.Decision.Rule,
				Instruction: d.Decision.Instruction.Name, Mode: string(d.Decision.Mode), Decided: d.Received})
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Store: store, Logger: zap.NewNop(), Gatherer: reg, Outcomes: tracker, Now: env.clock.Now,
		Shadow: &Shadow{Store: shadowStore, Agreement: func() any { return sh.Agreement() }},
		Console: &Console{Explain: explain.JSON, Decisions: env.decisions, Started: env.clock.Now().Add(-75 * time.Minute),
			Version: "v1.4.0-test", Hostname: "assignd-7d9f8c6b5-x2k4q", ShadowAgreement: sh.Agreement,
			Experiments: fakeExperiments, DecisionLogHealth: fakeDecisionLogHealth}})
	if err != nil {
		t.Fatal(err)
	}
	env.callback, env.admin = httptest.NewServer(cb.Handler()), httptest.NewServer(srv.Handler())
	t.Cleanup(env.callback.Close)
	t.Cleanup(env.admin.Close)
	return env
}

// newFakeUpdater is a real reservation.Updater whose sender answers
// TaskRouter's way without a network: most updates apply, every seventh
// finds the reservation gone.
func newFakeUpdater(t *testing.T, reg prometheus.Registerer) *reservation.Updater {
	t.Helper()
	var n sync.Mutex
	count := 0
	u, err := reservation.New(reservation.Options{Registerer: reg, ReservationTimeout: 3 * time.Hour,
		Send: func(ctx context.Context, up reservation.Update) error {
			n.Lock()
			defer n.Unlock()
			count++
			if count%7 == 0 {
				return &reservation.RESTError{Status: http.StatusNotFound}
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	u.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		u.Shutdown(ctx)
	})
	return u
}

// fakeExperiments is an experiment with two arms, as experiments.Build
// reports it.
func fakeExperiments() *experiments.Report {
	return experiments.Build([]experiments.Counts{
		{Experiment: "ring-order", Arm: "control", Decisions: 412,
			Outcomes: map[outcome.Outcome]uint64{outcome.Accepted: 301, outcome.Rejected: 52, outcome.Timeout: 41}},
		{Experiment: "ring-order", Arm: "longest-idle", Decisions: 398,
			Outcomes: map[outcome.Outcome]uint64{outcome.Accepted: 318, outcome.Rejected: 40, outcome.Timeout: 27}},
	}, experiments.DefaultMDE)
}

// fakeDecisionLogHealth is a healthy collector sink.
func fakeDecisionLogHealth() decisionlog.Health {
	return decisionlog.Health{Sink: "https://collector.example.com/v1/decisions", Healthy: true, Buffered: 3, Capacity: 4096, Written: 18234}
}

// traffic is one kind of callback the full environment is sent.
type traffic struct {
	task  string
	every int // one in every: sent when minute*7+i is a multiple
}

// fullTraffic is the mix of callbacks: mostly default, some digital, a
// few VIPs and blocked callers.
var fullTraffic = []traffic{
	{`{"channel":"voice"}`, 1},
	{`{"channel":"chat"}`, 2},
	{`{"channel":"email"}`, 3},
	{`{"from":"+15005550100"}`, 4},
	{`{"blocked":true}`, 6},
}

// send posts one signed callback with the given task attributes at the
// clock's time and returns the status; sid names its reservation.
func (e *fullEnv) send(t *testing.T, path, sid, task string, extra url.Values) int {
	t.Helper()
	form := consoleCallback(task)
	form.Set("ReservationSid", sid)
	for k, v := range extra {
		form[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, e.callback.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(callback.SignatureHeader, testkit.Sign(fullToken, fullBase+path, form))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// run sends the traffic over the last minutes minutes, ending now: a
// rising and falling load, each reservation's outcome as an event, and a
// few malformed and badly signed callbacks.
func (e *fullEnv) run(t *testing.T, minutes int) {
	t.Helper()
	end := time.Now()
	n := 0
	for m := minutes - 1; m >= 0; m-- {
		e.clock.Set(end.Add(-time.Duration(m) * time.Minute))
		load := 2 + (minutes-m)%9 + (minutes-m)/12
		for i := range load {
			for _, tr := range fullTraffic {
				if (m*7+i)%tr.every != 0 {
					continue
				}
				n++
				sid := fmt.Sprintf("WR%032x", n)
				if code := e.send(t, handlers.AssignmentPath, sid, tr.task, nil); code != http.StatusOK {
					t.Fatalf("callback %s: status %d", tr.task, code)
				}
				ev := []string{"reservation.accepted", "reservation.accepted", "reservation.accepted", "reservation.rejected", "reservation.timeout"}[n%5]
				e.send(t, handlers.EventsPath, sid, tr.task, url.Values{"EventType": {ev}})
			}
		}
	}
	e.clock.Set(end)
	// The page is read once the shadow has decided every callback.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if a := e.shadow.Agreement(); a.SinceStart.Total+a.Unevaluated+a.Dropped >= uint64(n) {
			break
		}
	}
	e.send(t, handlers.AssignmentPath, "WR0", `{"channel":`, nil)
	form := consoleCallback(`{}`)
	res, err := http.PostForm(e.callback.URL+handlers.AssignmentPath, form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}
