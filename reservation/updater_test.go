package reservation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/policy"
)

// fakeSender is a scripted Send: it answers from a function and counts calls.
type fakeSender struct {
	mu    sync.Mutex
	calls map[string]int
	fn    func(ctx context.Context, u Update, n int) error
}

func (f *fakeSender) send(ctx context.Context, u Update) error {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[u.ReservationSid]++
	n := f.calls[u.ReservationSid]
	f.mu.Unlock()
	if f.fn == nil {
		return nil
	}
	return f.fn(ctx, u, n)
}

func (f *fakeSender) count(sid string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[sid]
}

func newTestUpdater(t *testing.T, o Options) (*Updater, *prometheus.Registry, *observer.ObservedLogs) {
	t.Helper()
	reg := prometheus.NewRegistry()
	core, logs := observer.New(zap.DebugLevel)
	o.Registerer = reg
	o.Log = zap.New(core)
	return mustUpdater(t, o), reg, logs
}

// mustUpdater is New for tests, which cannot go on without one.
func mustUpdater(t *testing.T, o Options) *Updater {
	t.Helper()
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	u, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestNewErrors: a missing Registerer or a clash of metrics is an
// error from the constructor, not a panic.
func TestNewErrors(t *testing.T) {
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "no Registerer") {
		t.Errorf("New without a Registerer = %v", err)
	}
	reg := prometheus.NewRegistry()
	mustUpdater(t, Options{Registerer: reg})
	if _, err := New(Options{Registerer: reg}); err == nil || !strings.Contains(err.Error(), "registering updater metrics") {
		t.Errorf("New on a registry that has its metrics = %v", err)
	}
}

func shutdown(t *testing.T, u *Updater) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func accept(n int) Update { return testUpdate(n, policy.Instruction{Name: policy.Accept}) }

func TestUpdaterMetricsExistFromStart(t *testing.T) {
	_, reg, _ := newTestUpdater(t, Options{Send: (&fakeSender{}).send})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, mf := range mfs {
		series[mf.GetName()] = len(mf.GetMetric())
	}
	want := map[string]int{
		"assignd_reservation_updates_total": len(policy.InstructionNames()) * len(outcomeNames),
		"assignd_update_attempts":           1,
		"assignd_update_queue_depth":        1,
		"assignd_updates_in_flight":         1,
		"assignd_update_retries_total":      len(retryReasons),
		"assignd_update_duplicates_total":   1,
		"assignd_update_queue_full_total":   1,
	}
	for name, n := range want {
		if series[name] != n {
			t.Errorf("%s has %d series, want %d", name, series[name], n)
		}
	}
}

func TestUpdaterDuplicates(t *testing.T) {
	f := &fakeSender{fn: func(ctx context.Context, u Update, n int) error {
		if u.ReservationSid == testWR(3) {
			return &RESTError{Status: 401, Code: 20003, Message: "Authenticate"}
		}
		return nil
	}}
	u, reg, _ := newTestUpdater(t, Options{Send: f.send})
	// Not started yet: the first update is still queued.
	if err := u.Enqueue(accept(1)); err != nil {
		t.Fatal(err)
	}
	if err := u.Enqueue(accept(1)); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second enqueue while queued: %v, want ErrDuplicate", err)
	}
	if err := u.Enqueue(accept(3)); err != nil {
		t.Fatal(err)
	}
	u.Start()
	testkit.WaitFor(t, func() bool { return metricValue(t, reg, "assignd_reservation_updates_total", nil) == 2 })
	if err := u.Enqueue(accept(1)); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("enqueue after applied: %v, want ErrDuplicate", err)
	}
	// A rejected update is forgotten: a redelivery may try again.
	if err := u.Enqueue(accept(3)); err != nil {
		t.Fatalf("enqueue after rejected: %v, want it queued", err)
	}
	shutdown(t, u)
	if n := f.count(testWR(1)); n != 1 {
		t.Errorf("reservation 1 POSTed %d times, want 1", n)
	}
	if got := metricValue(t, reg, "assignd_update_duplicates_total", nil); got != 2 {
		t.Errorf("duplicates counted %v, want 2", got)
	}
}

func TestUpdaterDuplicateMapIsPruned(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	u, reg, _ := newTestUpdater(t, Options{Send: (&fakeSender{}).send, Now: clock, ReservationTimeout: time.Minute})
	u.Start()
	for i := range 100 {
		up := accept(i)
		up.Received = clock()
		if err := u.Enqueue(up); err != nil {
			t.Fatal(err)
		}
	}
	testkit.WaitFor(t, func() bool { return metricValue(t, reg, "assignd_reservation_updates_total", nil) == 100 })
	advance(2 * time.Minute)
	up := accept(1000)
	up.Received = clock()
	if err := u.Enqueue(up); err != nil {
		t.Fatal(err)
	}
	u.mu.Lock()
	n, q := len(u.entries), len(u.expiry)
	u.mu.Unlock()
	if n != 1 || q != 1 {
		t.Fatalf("after the timeout the duplicate map holds %d entries (%d in the expiry list), want 1", n, q)
	}
	// The reservation timed out at TaskRouter, so a callback for it now is
	// a new offer and may be sent.
	up = accept(1)
	up.Received = clock()
	if err := u.Enqueue(up); err != nil {
		t.Fatalf("enqueue after pruning: %v", err)
	}
	shutdown(t, u)
}

func TestUpdaterQueueFull(t *testing.T) {
	u, reg, _ := newTestUpdater(t, Options{Send: (&fakeSender{}).send, Queue: 2})
	for i := range 2 {
		if err := u.Enqueue(accept(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := u.Enqueue(accept(2)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third enqueue: %v, want ErrQueueFull", err)
	}
	if got := metricValue(t, reg, "assignd_update_queue_depth", nil); got != 2 {
		t.Errorf("queue depth %v, want 2", got)
	}
	// A refused update is not remembered: the fallback or a redelivery may
	// bring it back.
	u.Start()
	testkit.WaitFor(t, func() bool { return metricValue(t, reg, "assignd_reservation_updates_total", nil) == 2 })
	if err := u.Enqueue(accept(2)); err != nil {
		t.Fatalf("enqueue after the queue drained: %v", err)
	}
	shutdown(t, u)
	if err := u.Enqueue(accept(9)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("enqueue after shutdown: %v, want ErrQueueFull", err)
	}
	if got := metricValue(t, reg, "assignd_update_queue_full_total", nil); got != 2 {
		t.Errorf("queue full counted %v, want 2", got)
	}
}

func TestUpdaterShutdownDrains(t *testing.T) {
	f := &fakeSender{fn: func(ctx context.Context, u Update, n int) error {
		time.Sleep(5 * time.Millisecond)
		if n == 1 {
			return &RESTError{Status: 503}
		}
		return nil
	}}
	u, reg, _ := newTestUpdater(t, Options{Send: f.send, Concurrency: 2, BackoffBase: time.Millisecond})
	u.Start()
	for i := range 20 {
		if err := u.Enqueue(accept(i)); err != nil {
			t.Fatal(err)
		}
	}
	shutdown(t, u)
	if got := metricValue(t, reg, "assignd_reservation_updates_total", map[string]string{"outcome": ResultApplied}); got != 20 {
		t.Fatalf("%v applied after a drain, want 20", got)
	}
}

func TestUpdaterShutdownAbandons(t *testing.T) {
	started := make(chan struct{}, 10)
	f := &fakeSender{fn: func(ctx context.Context, u Update, n int) error {
		started <- struct{}{}
		<-ctx.Done() // TaskRouter never answers
		return fmt.Errorf("posting: %w", ctx.Err())
	}}
	u, reg, logs := newTestUpdater(t, Options{Send: f.send, Concurrency: 1, AttemptTimeout: time.Minute})
	u.Start()
	for i := range 3 {
		if err := u.Enqueue(accept(i)); err != nil {
			t.Fatal(err)
		}
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := u.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: %v, want the deadline error", err)
	}
	// Uncancelled, the in-flight attempt would end only at its one-minute
	// attempt timeout.
	if took := time.Since(start); took >= time.Minute {
		t.Fatalf("shutdown took %s with a 100ms budget: in-flight attempt not cancelled", took)
	}
	if got := metricValue(t, reg, "assignd_reservation_updates_total", map[string]string{"outcome": ResultAbandoned}); got != 3 {
		t.Fatalf("%v abandoned, want 3 (1 in flight, 2 queued)", got)
	}
	lines := logs.FilterMessage("reservation update finished").FilterField(zap.String("outcome", ResultAbandoned)).All()
	sids := map[string]bool{}
	for _, l := range lines {
		sids[l.ContextMap()["reservation_sid"].(string)] = true
	}
	if len(sids) != 3 {
		t.Fatalf("abandoned log lines name %v, want 3 reservations", sids)
	}
	if n := f.count(testWR(1)) + f.count(testWR(2)); n != 0 {
		t.Fatalf("queued updates were sent during a timed-out shutdown (%d)", n)
	}
}

func TestUpdaterShutdownBeforeStart(t *testing.T) {
	u, reg, _ := newTestUpdater(t, Options{Send: (&fakeSender{}).send})
	if err := u.Enqueue(accept(1)); err != nil {
		t.Fatal(err)
	}
	shutdown(t, u)
	if got := metricValue(t, reg, "assignd_reservation_updates_total", map[string]string{"outcome": ResultAbandoned}); got != 1 {
		t.Fatalf("%v abandoned, want 1", got)
	}
}

// TestUpdaterDeadline checks that the deadline comes from the arrival time
// and that an update past it is never sent.
func TestUpdaterDeadline(t *testing.T) {
	f := &fakeSender{}
	u, reg, _ := newTestUpdater(t, Options{Send: f.send, ReservationTimeout: 10 * time.Second, SafetyMargin: 2 * time.Second})
	late := accept(1)
	late.Received = time.Now().Add(-9 * time.Second) // within the timeout, past the margin
	onTime := accept(2)
	onTime.Received = time.Now().Add(-7 * time.Second)
	noArrival := accept(3) // a caller that forgot Received must not lose the update
	noArrival.Received = time.Time{}
	for _, up := range []Update{late, onTime, noArrival} {
		if err := u.Enqueue(up); err != nil {
			t.Fatal(err)
		}
	}
	u.Start()
	shutdown(t, u)
	if f.count(late.ReservationSid) != 0 {
		t.Error("an update past its deadline was sent")
	}
	if f.count(onTime.ReservationSid) != 1 || f.count(noArrival.ReservationSid) != 1 {
		t.Error("an update within its deadline was not sent")
	}
	if got := metricValue(t, reg, "assignd_reservation_updates_total", map[string]string{"outcome": ResultExpired}); got != 1 {
		t.Errorf("%v expired, want 1", got)
	}
}

func TestUpdaterBackoff(t *testing.T) {
	var sleeps []time.Duration
	f := &fakeSender{fn: func(ctx context.Context, u Update, n int) error {
		if n <= 9 {
			return &RESTError{Status: 500, Code: 20500}
		}
		return nil
	}}
	u, reg, logs := newTestUpdater(t, Options{
		Send:   f.send,
		Jitter: func() float64 { return 0.5 },
		Sleep: func(ctx context.Context, d time.Duration) error {
			sleeps = append(sleeps, d) // one worker runs this update: no race
			return nil
		},
	})
	u.Start()
	if err := u.Enqueue(accept(1)); err != nil {
		t.Fatal(err)
	}
	shutdown(t, u)
	ms := time.Millisecond
	want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 5000 * ms, 5000 * ms, 5000 * ms}
	if fmt.Sprint(sleeps) != fmt.Sprint(want) {
		t.Errorf("slept %v, want %v (half of min(10s, 200ms·2^n))", sleeps, want)
	}
	if got := metricValue(t, reg, "assignd_update_retries_total", map[string]string{"reason": "5xx"}); got != 9 {
		t.Errorf("%v 5xx retries counted, want 9", got)
	}
	line := logs.FilterMessage("reservation update finished").All()[0].ContextMap()
	if line["attempts"] != int64(10) || line["outcome"] != ResultApplied || line["status"] != int64(200) {
		t.Errorf("log line %v", line)
	}
}

// TestUpdaterBackoffStopsAtDeadline checks that a computed wait never runs
// past the deadline.
func TestUpdaterBackoffStopsAtDeadline(t *testing.T) {
	var mu sync.Mutex
	var sleeps []time.Duration
	f := &fakeSender{fn: func(ctx context.Context, u Update, n int) error { return &RESTError{Status: 503} }}
	u, reg, _ := newTestUpdater(t, Options{
		Send:               f.send,
		ReservationTimeout: 400 * time.Millisecond,
		SafetyMargin:       100 * time.Millisecond,
		BackoffBase:        time.Second,
		Jitter:             func() float64 { return 0.999 },
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			sleeps = append(sleeps, d)
			mu.Unlock()
			return sleep(ctx, d)
		},
	})
	u.Start()
	up := accept(1)
	if err := u.Enqueue(up); err != nil {
		t.Fatal(err)
	}
	shutdown(t, u)
	if got := metricValue(t, reg, "assignd_reservation_updates_total", map[string]string{"outcome": ResultExpired}); got != 1 {
		t.Fatalf("%v expired, want 1", got)
	}
	for _, d := range sleeps {
		if d > 300*time.Millisecond {
			t.Errorf("slept %s, past the 300ms deadline", d)
		}
	}
}

func TestUpdaterNoSecretsAtInfo(t *testing.T) {
	f := &fakeSender{}
	reg := prometheus.NewRegistry()
	core, logs := observer.New(zap.InfoLevel)
	u := mustUpdater(t, Options{Send: f.send, Registerer: reg, Log: zap.New(core)})
	u.Start()
	if err := u.Enqueue(testUpdate(1, policy.Instruction{Name: policy.Conference, Params: []policy.Param{
		p("to", "+14155550100"), p("sip_auth_password", "hunter2")}})); err != nil {
		t.Fatal(err)
	}
	shutdown(t, u)
	for _, l := range logs.All() {
		s := fmt.Sprint(l.ContextMap())
		if containsAny(s, "+14155550100", "hunter2") {
			t.Errorf("info log carries a parameter value: %s", s)
		}
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if len(sub) > 0 && len(s) >= len(sub) {
			for i := 0; i+len(sub) <= len(s); i++ {
				if s[i:i+len(sub)] == sub {
					return true
				}
			}
		}
	}
	return false
}

// TestDefaultsAreConfigs holds New's defaults equal to the environment's,
// so that the two cannot drift.
func TestDefaultsAreConfigs(t *testing.T) {
	for _, name := range []string{"ASSIGND_UPDATE_QUEUE", "ASSIGND_UPDATE_CONCURRENCY", "ASSIGND_UPDATE_ATTEMPT_TIMEOUT", "ASSIGND_RESERVATION_TIMEOUT"} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
	t.Setenv("ASSIGND_DEV", "true")
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	d := defaults()
	if d.Queue != cfg.UpdateQueue || d.Concurrency != cfg.UpdateConcurrency ||
		d.AttemptTimeout != cfg.UpdateAttemptTimeout || d.ReservationTimeout != cfg.ReservationTimeout {
		t.Errorf("New's defaults %+v differ from the environment's %+v", d, cfg)
	}
}

func testUpdate(n int, in policy.Instruction) Update {
	return Update{
		AccountSid:     testAccount,
		WorkspaceSid:   testWS,
		WorkerSid:      testWK,
		TaskSid:        testWT,
		ReservationSid: testWR(n),
		Rule:           "test-rule",
		Instruction:    in,
		Received:       time.Now(),
	}
}

func p(name string, v any) policy.Param { return policy.Param{Name: name, Value: v} }

// testWR returns a valid reservation SID numbered n.
func testWR(n int) string { return fmt.Sprintf("WR%032x", n) }

// The SIDs of the tests' updates.
const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testWS      = "WS0123456789abcdef0123456789abcdef"
	testWK      = "WK0123456789abcdef0123456789abcdef"
	testWT      = "WT0123456789abcdef0123456789abcdef"
	testWA      = "WA0123456789abcdef0123456789abcdef"
	testCA      = "CA0123456789abcdef0123456789abcdef"
)

// metricValue is testkit.MetricSum over the updater's registry.
func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	return testkit.MetricSum(t, reg, name, labels)
}
