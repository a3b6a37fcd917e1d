package decisionlog

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/policy"
)

// testPolicy is leakPolicy, parsed.
func testPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	p, err := policy.Parse("leak.yaml", []byte(leakPolicy))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sid returns the i-th test reservation SID.
func sid(i int) string {
	const hex = "0123456789abcdef"
	b := []byte(testReservation)
	for j := 0; j < 4; j++ {
		b[len(b)-1-j] = hex[(i>>(4*j))&0xf]
	}
	return string(b)
}

// produce hands n decisions of leakInputs, in turn, to l.
func produce(t testing.TB, l *Log, p *policy.Policy, n int) {
	t.Helper()
	ins := make([]Input, len(leakInputs))
	for i, src := range leakInputs {
		ins[i] = testInput(t, p, src, testReservation)
	}
	for i := range n {
		in := ins[i%len(ins)]
		in.ReservationSid = sid(i)
		l.Decision(in)
	}
}

func countLines(t *testing.T, file string) int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewReader(f, 1)
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		n++
	}
}

// TestFlushOnShutdown: every record buffered when Close is called is
// written before it returns.
func TestFlushOnShutdown(t *testing.T) {
	file := filepath.Join(t.TempDir(), "decisions.jsonl")
	l, err := New(Options{Sink: "file:" + file, Buffer: 2000})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1500
	produce(t, l, testPolicy(t), n)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := countLines(t, file); got != n {
		t.Errorf("%d records in the file, want %d", got, n)
	}
	if h := l.Health(); h.Written != n || h.Dropped != 0 || h.Failed != 0 || !h.Healthy {
		t.Errorf("Health() = %+v, want %d written and nothing else", h, n)
	}
	l.Decision(testInput(t, testPolicy(t), leakInputs[0], testReservation))
	if h := l.Health(); h.Dropped != 1 {
		t.Errorf("a record after Close: %d dropped, want 1", h.Dropped)
	}
}

// TestFileRotation: a file sink starts a new file at ASSIGND_DECISION_LOG_MAX_MB
// and loses no record doing so.
func TestFileRotation(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "decisions.jsonl")
	l, err := New(Options{Sink: "file:" + file, MaxMB: 1, MaxFiles: 10, Buffer: 4000})
	if err != nil {
		t.Fatal(err)
	}
	// About 1.5 kB a record: 3 MB in all.
	const n = 2000
	produce(t, l, testPolicy(t), n)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "decisions*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("files %v: want at least 3 after writing 3 MB at 1 MB each", files)
	}
	total := 0
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() > 1<<20 {
			t.Errorf("%s holds %d bytes, more than 1 MB", f, info.Size())
		}
		total += countLines(t, f)
	}
	if total != n {
		t.Errorf("%d records across %d files, want %d", total, len(files), n)
	}
}

// collector is an httptest collector that keeps the lines it is sent.
type collector struct {
	mu       sync.Mutex
	lines    []string
	auth     []string
	attempts atomic.Int64
}

func (c *collector) handler(status func() int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.attempts.Add(1)
		if s := status(); s != http.StatusOK {
			w.WriteHeader(s)
			return
		}
		zr, err := gzip.NewReader(r.Body)
		if err != nil || r.Header.Get("Content-Encoding") != "gzip" {
			http.Error(w, "want gzip", http.StatusBadRequest)
			return
		}
		user, pass, _ := r.BasicAuth()
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, MaxLine)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.auth = append(c.auth, user+":"+pass)
		for sc.Scan() {
			c.lines = append(c.lines, sc.Text())
		}
	}
}

// TestSlowCollectorDoesNotBlock: a collector that never answers holds up
// neither the producer nor Close beyond its context; what does not fit in
// the buffer is dropped and counted.
func TestSlowCollectorDoesNotBlock(t *testing.T) {
	release := make(chan struct{})
	var c collector
	srv := httptest.NewServer(c.handler(func() int {
		<-release
		return http.StatusOK
	}))
	defer srv.Close()
	defer close(release)
	reg := prometheus.NewRegistry()
	l, err := New(Options{Sink: srv.URL, Buffer: 10, Registerer: reg, Backoff: func(int) time.Duration { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	produce(t, l, testPolicy(t), n) // returns: the producer never waits
	h := l.Health()
	// At most the buffer and one batch (in flight or filling) are taken.
	if taken := n - int(h.Dropped); taken > 10+500 || h.Dropped == 0 {
		t.Errorf("%d of %d records taken with a buffer of 10 and a stalled collector; Health %+v", taken, n, h)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close with an ended context = %v, want context.Canceled", err)
	}
	h = l.Health()
	if h.Written+h.Dropped+h.Failed != n {
		t.Errorf("written %d + dropped %d + failed %d != %d", h.Written, h.Dropped, h.Failed, n)
	}
	if got := testutil.ToFloat64(l.dropped); got != float64(h.Dropped) {
		t.Errorf("assignd_decision_log_records_total{sink=http,result=dropped} = %v, want %d", got, h.Dropped)
	}
}

// TestFailingCollector: a collector that always fails gets a bounded
// number of attempts per batch; the records are counted as failed, the
// health says so, and the URL's password is nowhere in what is shown.
func TestFailingCollector(t *testing.T) {
	var c collector
	srv := httptest.NewServer(c.handler(func() int { return http.StatusServiceUnavailable }))
	defer srv.Close()
	url := strings.Replace(srv.URL, "http://", "http://ingest:s3cret-pw@", 1)
	l, err := New(Options{Sink: url, Buffer: 100, Backoff: func(int) time.Duration { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	produce(t, l, testPolicy(t), n)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := l.Health()
	if h.Failed != n || h.Written != 0 || h.Healthy {
		t.Errorf("Health() = %+v, want %d failed and unhealthy", h, n)
	}
	if a := c.attempts.Load(); a%httpAttempts != 0 || a == 0 {
		t.Errorf("%d attempts, want a multiple of %d", a, httpAttempts)
	}
	if !strings.Contains(h.LastError, "503") {
		t.Errorf("LastError %q does not name the status", h.LastError)
	}
	if shown := h.Sink + h.LastError; strings.Contains(shown, "s3cret-pw") {
		t.Errorf("the password is shown: %q", shown)
	}
}

// TestCollectorOutcomesJoin: decisions and their outcomes reach a
// collector gzipped, with the URL's credentials, and join by reservation.
func TestCollectorOutcomesJoin(t *testing.T) {
	var c collector
	srv := httptest.NewServer(c.handler(func() int { return http.StatusOK }))
	defer srv.Close()
	l, err := New(Options{Sink: strings.Replace(srv.URL, "http://", "http://ingest:pw@", 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := testPolicy(t)
	produce(t, l, p, 3)
	at := time.Date(2026, 3, 2, 14, 5, 9, 0, time.UTC)
	for i, event := range []string{"reservation.accepted", "reservation.rejected"} {
		l.Outcome(Outcome{ReservationSid: sid(i), EventType: event, Rule: "vip", Instruction: "dequeue", Source: "remembered", Received: at})
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := NewReader(strings.NewReader(strings.Join(c.lines, "\n")), 1)
	decided := map[string]string{}
	joined := map[string]string{}
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch e.Record.Kind {
		case KindDecision:
			decided[e.Record.ReservationSid] = e.Record.Rule
		case KindOutcome:
			if _, ok := decided[e.Record.ReservationSid]; !ok {
				t.Errorf("outcome for %s, which no decision record names", e.Record.ReservationSid)
			}
			joined[e.Record.ReservationSid] = e.Record.EventType
		}
	}
	if len(decided) != 3 || joined[sid(0)] != "reservation.accepted" || joined[sid(1)] != "reservation.rejected" || len(joined) != 2 {
		t.Errorf("decided %v, outcomes %v", decided, joined)
	}
	for _, a := range c.auth {
		if a != "ingest:pw" {
			t.Errorf("the collector got credentials %q", a)
		}
	}
}

// TestProducerAllocatesNothing: handing a record over, taken or dropped,
// allocates nothing on the callback path.
func TestProducerAllocatesNothing(t *testing.T) {
	l, err := newLog(Options{Sink: "stdout", Stdout: io.Discard, Buffer: 50})
	if err != nil {
		t.Fatal(err)
	}
	in := testInput(t, testPolicy(t), leakInputs[0], testReservation)
	if a := testing.AllocsPerRun(200, func() { l.Decision(in) }); a != 0 {
		t.Errorf("Decision allocates %v times", a)
	}
	if h := l.Health(); h.Buffered != 50 || h.Dropped == 0 {
		t.Errorf("Health() = %+v: want the buffer full and the rest dropped", h)
	}
}

func TestParseSink(t *testing.T) {
	for _, tc := range []struct {
		in, kind, problem string
	}{
		{"stdout", "stdout", ""},
		{"file:/var/log/d.jsonl", "file", ""},
		{"https://collector.example/ingest", "http", ""},
		{"http://user:pw@collector.example:8080/x?t=1", "http", ""},
		{"file:", "", "needs a path"},
		{"https://", "", "not a valid"},
		{"http://user:pw@[::1", "", "not a valid"},
		{"stderr", "", "must be stdout"},
		{"", "", "must be stdout"},
		{"https://c.example/#frag", "", "fragment"},
	} {
		s, err := ParseSink(tc.in)
		switch {
		case tc.problem == "" && (err != nil || s.Kind != tc.kind):
			t.Errorf("ParseSink(%q) = %+v, %v; want kind %s", tc.in, s, err, tc.kind)
		case tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)):
			t.Errorf("ParseSink(%q) error = %v, want one saying %q", tc.in, err, tc.problem)
		case err != nil && strings.Contains(err.Error(), "pw"):
			t.Errorf("ParseSink(%q) error %q quotes the password", tc.in, err)
		}
	}
}

// BenchmarkProducer is the callback path's cost of a record: the hand-over
// alone, the worker running behind it.
func BenchmarkProducer(b *testing.B) {
	l, err := New(Options{Sink: "stdout", Stdout: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(context.Background()) //nolint:errcheck // a benchmark
	in := testInput(b, testPolicy(b), leakInputs[0], testReservation)
	b.ReportAllocs()
	for b.Loop() {
		l.Decision(in)
	}
}

// BenchmarkBuild is the worker's cost of a record: trace, masking and
// encoding.
func BenchmarkBuild(b *testing.B) {
	p := testPolicy(b)
	in := testInput(b, p, leakInputs[3], testReservation)
	m := newMasking(p)
	benchBuild(b, m, &in)
}

// BenchmarkBuildLoad is BenchmarkBuild for the load test's record: its
// ten-rule policy, where only the catch-all matches, and its callback.
func BenchmarkBuildLoad(b *testing.B) {
	p, err := policy.Parse("load.yaml", []byte(testkit.PolicySource(10)))
	if err != nil {
		b.Fatal(err)
	}
	in := testInput(b, p, `{"task": {"language": "es", "tier": "gold", "call_sid": "CA00000000000000000000000000000001", "customer": {"name": "Ana", "accounts": [{"tier": "gold"}]}},
		"worker": {"contact_uri": "client:alice", "skills": ["billing", "vip"], "languages": ["en", "es"], "level": 3},
		"callback": {"TaskAge": 12, "TaskPriority": 10}, "now": "2026-03-02T14:05:06Z"}`, testReservation)
	m := newMasking(p)
	benchBuild(b, m, &in)
}

// benchBuild builds and encodes in's record as the worker does: one
// encoder, and a batch's bytes reused.
func benchBuild(b *testing.B, m *masking, in *Input) {
	enc := newLineEncoder()
	var lines []byte
	b.ReportAllocs()
	for b.Loop() {
		rec := m.build(in)
		var err error
		if lines, err = enc.appendLine(lines[:0], &rec); err != nil {
			b.Fatal(err)
		}
	}
}
