package twilio

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/reservation"
)

func TestUpdaterInvalidInstructionRejected(t *testing.T) {
	fake := newFakeTaskRouter(t)
	send, err := NewSender(testConfig(t, fake.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	u, reg, logs := newTestUpdater(t, reservation.Options{Send: send})
	u.Start()
	if err := u.Enqueue(testUpdate(1, policy.Instruction{Name: policy.Conference, Params: []policy.Param{p("bogus", "x")}})); err != nil {
		t.Fatal(err)
	}
	shutdown(t, u)
	if got := metricValue(t, reg, "assignd_reservation_updates_total", map[string]string{"instruction": "conference", "outcome": reservation.ResultRejected}); got != 1 {
		t.Fatalf("%v rejected, want 1", got)
	}
	if l := logs.FilterMessage("reservation update finished").All(); len(l) != 1 || l[0].Level != zap.ErrorLevel {
		t.Fatalf("want one error line, got %v", l)
	}
}

// TestUpdaterTenThousand runs 10,000 reservations, with redeliveries and
// random faults, through the updater against the fake TaskRouter's script
// played in memory, and checks the invariants: exactly one outcome per
// update, nothing POSTed after the updater saw it applied, nothing POSTed
// after its deadline.
func TestUpdaterTenThousand(t *testing.T) {
	randomRun(t, 10000, 3*time.Second, false)
}

// TestUpdaterRandomFaultsHTTP is the same run, smaller, through the real
// twilio-go sender and loopback HTTP, every request checked against the
// spec; it is sized for the race detector on two cores.
func TestUpdaterRandomFaultsHTTP(t *testing.T) {
	randomRun(t, 500, 4*time.Second, true)
}

func randomRun(t *testing.T, total int, arrivals time.Duration, overHTTP bool) {
	// Each attempt's context ends by the deadline: that is the exact check.
	// The wrapper and the HTTP trace see the attempt a little later than the
	// updater decided on it, by however long the scheduler took on a loaded
	// machine: slack, plus the worst timer lateness seen during the run,
	// allows for that.
	const slack = 100 * time.Millisecond
	lag := testkit.LagMeter(t)
	rt, margin, attemptTimeout := 1500*time.Millisecond, 200*time.Millisecond, 60*time.Millisecond
	if overHTTP {
		// Loopback HTTP under the race detector on two cores takes tens of
		// milliseconds a request.
		rt, margin, attemptTimeout = 2500*time.Millisecond, 300*time.Millisecond, 200*time.Millisecond
	}
	rng := rand.New(rand.NewPCG(20260101, 5))
	fake := newFakeTaskRouter(t)
	send := fake.sendDirect
	if overHTTP {
		var err error
		if send, err = NewSender(testConfig(t, fake.srv.URL)); err != nil {
			t.Fatal(err)
		}
	}

	// Scripts: most succeed at once; others meet one to three faults and
	// then an answer; a few never get through.
	faults := []reply{
		{status: 429, code: 20429, message: "Too Many Requests"},
		{status: 429, code: 20429, message: "Too Many Requests", retryAfter: "2"}, // past the deadline: expired
		{status: 500, code: 20500, message: "Internal Server Error"},
		{status: 503, code: 20503, message: "Service Unavailable"},
		{status: 502},
		{delay: 3 * attemptTimeout},
		{delay: 3 * attemptTimeout, lands: true},
		{drop: true},
	}
	finals := []reply{replyOK, replyOK, replyOK, replyOK, replyOK, replyOK, replyNotPending,
		{status: 404, code: 20404, message: "Not Found"},
		{status: 401, code: 20003, message: "Authenticate"},
		{status: 400, code: 20001, message: "Invalid parameter"}}
	rejecting := map[string]bool{}
	for i := range total {
		sid := testWR(i)
		var steps []reply
		switch x := rng.Float64(); {
		case x < 0.65:
		case x < 0.997:
			for range 1 + rng.IntN(3) {
				steps = append(steps, faults[rng.IntN(len(faults))])
			}
			fallthrough
		default:
			if x >= 0.997 {
				steps = append(steps, reply{status: 503, code: 20503, message: "Service Unavailable"}) // forever
				break
			}
			final := finals[rng.IntN(len(finals))]
			steps = append(steps, final)
			if final.status == 401 || final.code == 20001 && final.message == "Invalid parameter" {
				rejecting[sid] = true
			}
		}
		if len(steps) > 0 {
			fake.script(sid, steps...)
		}
	}

	var (
		mu         sync.Mutex
		deadlines  = map[string]time.Time{}
		applied    = map[string]bool{}
		violations []string
	)
	type lateness struct {
		what string
		by   time.Duration
	}
	var lates []lateness
	late := func(what string, by time.Duration) {
		mu.Lock()
		lates = append(lates, lateness{what, by})
		mu.Unlock()
	}
	violate := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(violations) < 20 {
			violations = append(violations, fmt.Sprintf(format, args...))
		}
	}
	// The request is checked when it has been written to the connection:
	// the server may read it later, after the deadline, from a connection
	// the client has already given up on, as TaskRouter may.
	wrote := func(sid string) {
		at := time.Now()
		mu.Lock()
		d, isApplied := deadlines[sid], applied[sid]
		mu.Unlock()
		if isApplied {
			violate("%s POSTed after it was applied", sid)
		}
		if at.After(d) {
			late(sid+" POSTed", at.Sub(d))
		}
	}
	var attempts, writes atomic.Int64
	checked := func(ctx context.Context, up reservation.Update) error {
		attempts.Add(1)
		mu.Lock()
		d, isApplied := deadlines[up.ReservationSid], applied[up.ReservationSid]
		mu.Unlock()
		if isApplied {
			violate("%s sent after it was applied", up.ReservationSid)
		}
		if dl, ok := ctx.Deadline(); !ok || dl.After(d) {
			violate("%s attempt may run until %s, past its deadline %s", up.ReservationSid, dl.Format(time.StampMicro), d.Format(time.StampMicro))
		}
		if now := time.Now(); now.After(d) {
			late(up.ReservationSid+" attempt started", now.Sub(d))
		}
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
			// Only a request that was flushed to the connection was sent.
			if info.Err == nil {
				writes.Add(1)
				wrote(up.ReservationSid)
			}
		}})
		err := send(ctx, up)
		if err == nil {
			mu.Lock()
			applied[up.ReservationSid] = true
			mu.Unlock()
		}
		return err
	}

	reg := prometheus.NewRegistry()
	core, logs := observer.New(zap.InfoLevel)
	u := mustUpdater(t, reservation.Options{
		Send: checked, Queue: total, Concurrency: 64,
		AttemptTimeout: attemptTimeout, ReservationTimeout: rt, SafetyMargin: margin,
		BackoffBase: 2 * time.Millisecond, BackoffCap: 40 * time.Millisecond,
		Registerer: reg, Log: zap.New(core),
	})
	u.Start()

	// Callbacks arrive at a steady rate over several TaskRouter
	// connections; about one in ten is delivered twice.
	var dups, redelivered atomic.Int64
	var wg sync.WaitGroup
	const producers = 4
	start := time.Now()
	for w := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < total; i += producers {
				time.Sleep(time.Until(start.Add(time.Duration(i) * arrivals / time.Duration(total))))
				up := accept(i)
				up.Received = time.Now()
				mu.Lock()
				deadlines[up.ReservationSid] = up.Received.Add(rt - margin)
				mu.Unlock()
				if err := u.Enqueue(up); err != nil {
					t.Errorf("enqueue %d: %v", i, err)
					continue
				}
				if i%10 == 3 && !rejecting[up.ReservationSid] {
					redelivered.Add(1)
					again := up
					again.Received = time.Now()
					if err := u.Enqueue(again); errors.Is(err, reservation.ErrDuplicate) {
						dups.Add(1)
					} else {
						t.Errorf("redelivery of %d: %v, want reservation.ErrDuplicate", i, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := u.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	for _, v := range violations {
		t.Error(v)
	}
	allowed := slack + lag()
	for _, l := range lates {
		if l.by > allowed {
			t.Errorf("%s %s after its deadline (allowed %s for scheduling)", l.what, l.by, allowed)
		}
	}
	outcomes := map[string]float64{}
	var sum float64
	for _, oc := range outcomeNames {
		outcomes[oc] = metricValue(t, reg, "assignd_reservation_updates_total", map[string]string{"outcome": oc})
		sum += outcomes[oc]
	}
	t.Logf("timer lag up to %s; outcomes %v, attempts %d, duplicates %d, retries network=%v timeout=%v 429=%v 5xx=%v",
		lag(), outcomes, attempts.Load(), dups.Load(),
		metricValue(t, reg, "assignd_update_retries_total", map[string]string{"reason": "network"}),
		metricValue(t, reg, "assignd_update_retries_total", map[string]string{"reason": "timeout"}),
		metricValue(t, reg, "assignd_update_retries_total", map[string]string{"reason": "429"}),
		metricValue(t, reg, "assignd_update_retries_total", map[string]string{"reason": "5xx"}))
	if sum != float64(total) {
		t.Errorf("outcomes sum to %v, want %d", sum, total)
	}
	perSid := map[string]int{}
	for _, l := range logs.FilterMessage("reservation update finished").All() {
		perSid[l.ContextMap()["reservation_sid"].(string)]++
	}
	if len(perSid) != total {
		t.Errorf("%d reservations have an outcome line, want %d", len(perSid), total)
	}
	for sid, n := range perSid {
		if n != 1 {
			t.Errorf("%s has %d outcome lines", sid, n)
		}
	}
	if got := metricValue(t, reg, "assignd_update_duplicates_total", nil); got != float64(dups.Load()) || dups.Load() != redelivered.Load() {
		t.Errorf("duplicates counted %v, refused %d, redelivered %d", got, dups.Load(), redelivered.Load())
	}
	if overHTTP && writes.Load() == 0 {
		t.Error("no request write was traced: the wire-level checks did not run")
	}
	if got := metricValue(t, reg, "assignd_update_attempts", nil); got != float64(total) {
		t.Errorf("attempts histogram has %v samples, want %d", got, total)
	}
	for _, oc := range []string{reservation.ResultApplied, reservation.ResultGone, reservation.ResultRejected, reservation.ResultExpired} {
		if outcomes[oc] < float64(total)/1000 {
			t.Errorf("no %s outcome: the faults did not exercise it", oc)
		}
	}
	if outcomes[reservation.ResultAbandoned] != 0 {
		t.Errorf("%v abandoned in a graceful drain", outcomes[reservation.ResultAbandoned])
	}
	for _, r := range retryReasons {
		if metricValue(t, reg, "assignd_update_retries_total", map[string]string{"reason": r}) == 0 {
			t.Errorf("no %s retry: the faults did not exercise it", r)
		}
	}
}

func newTestUpdater(t *testing.T, o reservation.Options) (*reservation.Updater, *prometheus.Registry, *observer.ObservedLogs) {
	t.Helper()
	reg := prometheus.NewRegistry()
	core, logs := observer.New(zap.DebugLevel)
	o.Registerer = reg
	o.Log = zap.New(core)
	return mustUpdater(t, o), reg, logs
}

// mustUpdater is New for tests, which cannot go on without one.
func mustUpdater(t *testing.T, o reservation.Options) *reservation.Updater {
	t.Helper()
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	u, err := reservation.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func shutdown(t *testing.T, u *reservation.Updater) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// The label values of the updater's metrics, as dashboards know them.
var (
	outcomeNames = []string{reservation.ResultApplied, reservation.ResultGone, reservation.ResultRejected, reservation.ResultExpired, reservation.ResultAbandoned}
	retryReasons = []string{"network", "timeout", "429", "5xx"}
)

func accept(n int) reservation.Update { return testUpdate(n, policy.Instruction{Name: policy.Accept}) }

// metricValue is testkit.MetricSum over the updater's registry.
func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	return testkit.MetricSum(t, reg, name, labels)
}
