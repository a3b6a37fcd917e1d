package reservation

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/internal/metric"
	"github.com/assignd/assignd/policy"
)

// Options configures an Updater. Zero values take the defaults noted
// on each field.
type Options struct {
	// Send makes one attempt at one update, within ctx; twilio.NewSender
	// builds the real one. Without it the Updater only registers its
	// metrics, and Start starts nothing. A *RESTError says what TaskRouter answered; any
	// other error is taken for a network failure and retried.
	Send func(ctx context.Context, u Update) error
	// Queue is how many updates may wait (default 10000); Concurrency how
	// many are worked on at once (default 16).
	Queue, Concurrency int
	// AttemptTimeout bounds one attempt (default 5s).
	AttemptTimeout time.Duration
	// ReservationTimeout is the Workflow's TaskReservationTimeout (default
	// 120s). No attempt starts later than the callback's arrival plus
	// ReservationTimeout minus SafetyMargin (default
	// config.UpdateSafetyMargin, which config.Check relies on).
	ReservationTimeout time.Duration
	SafetyMargin       time.Duration
	// BackoffBase and BackoffCap shape the exponential backoff with full
	// jitter between attempts (defaults 200ms and 10s).
	BackoffBase, BackoffCap time.Duration
	// Log receives one line per finished update (default: none).
	Log *zap.Logger
	// Registerer receives the updater's metrics; required.
	Registerer prometheus.Registerer
	// Now, Sleep and Jitter are seams for tests. Now must keep to the wall
	// clock, as attempt contexts end at deadlines computed from it. Sleep
	// waits d or until ctx ends, returning ctx's error in that case; Jitter
	// returns a number in [0, 1) and must be safe for concurrent use.
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func() float64
}

// Results of an update; each update ends in exactly one, the outcome label
// of assignd_reservation_updates_total.
const (
	// ResultApplied: TaskRouter took the update.
	ResultApplied = "applied"
	// ResultGone: the reservation was no longer pending (400 not pending
	// or already in another state, 404): accepted, timed out, rescinded or canceled, or taken by an
	// earlier attempt of ours whose answer was lost.
	ResultGone = "gone"
	// ResultRejected: TaskRouter refused the request (another 4xx); a bug or
	// a credential problem, never retried.
	ResultRejected = "rejected"
	// ResultExpired: the reservation's deadline passed before an attempt
	// succeeded.
	ResultExpired = "expired"
	// ResultAbandoned: still queued or in flight when shutdown ran out of time.
	ResultAbandoned = "abandoned"
)

var (
	outcomeNames = []string{ResultApplied, ResultGone, ResultRejected, ResultExpired, ResultAbandoned}
	retryReasons = []string{"network", "timeout", "429", "5xx"}
)

// state is where an update for one reservation stands, for duplicate
// detection.
type state int

const (
	pending  state = iota // queued or in flight
	finished              // applied, gone or expired: a second POST could only fail or repeat
)

// entry is the duplicate-detection record of one reservation.
type entry struct {
	sid     string
	state   state
	expires time.Time
}

// item is one queued update with its arrival-derived deadline.
type item struct {
	up       Update
	deadline time.Time
	entry    *entry
}

// Updater sends reservation updates over REST from a bounded queue with a
// pool of workers, retrying what may succeed until the reservation's
// deadline, and sends each reservation's update at most once successfully.
type Updater struct {
	o     Options
	log   *zap.Logger
	queue chan *item

	mu      sync.Mutex
	closed  bool
	entries map[string]*entry
	// expiry lists entries in insertion order, which is expiry order since
	// every entry lives ReservationTimeout; pruning pops from its front.
	expiry []*entry

	started sync.Once
	workers sync.WaitGroup
	// runCtx ends when shutdown runs out of time; it cancels in-flight
	// attempts and backoff sleeps.
	runCtx    context.Context
	cancelRun context.CancelFunc

	updates    *prometheus.CounterVec
	attempts   prometheus.Histogram
	inFlight   prometheus.Gauge
	retries    *prometheus.CounterVec
	duplicates prometheus.Counter
	queueFull  prometheus.Counter
}

// defaults are what New fills in for zero Options: the environment's own
// defaults (config's ASSIGND_UPDATE_* and ASSIGND_RESERVATION_TIMEOUT), so
// that an Updater built without them behaves as serve does;
// TestDefaultsAreConfigs holds the two equal.
func defaults() Options {
	return Options{Queue: 10000, Concurrency: 16, AttemptTimeout: 5 * time.Second,
		ReservationTimeout: 120 * time.Second, SafetyMargin: config.UpdateSafetyMargin}
}

// New returns an Updater with its metrics registered; Start runs it.
func New(o Options) (*Updater, error) {
	if o.Registerer == nil {
		return nil, errors.New("reservation.New: no Registerer")
	}
	d := defaults()
	if o.Queue <= 0 {
		o.Queue = d.Queue
	}
	if o.Concurrency <= 0 {
		o.Concurrency = d.Concurrency
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = d.AttemptTimeout
	}
	if o.ReservationTimeout <= 0 {
		o.ReservationTimeout = d.ReservationTimeout
	}
	if o.SafetyMargin <= 0 {
		o.SafetyMargin = d.SafetyMargin
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 200 * time.Millisecond
	}
	if o.BackoffCap <= 0 {
		o.BackoffCap = 10 * time.Second
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	u := &Updater{
		o:       o,
		log:     o.Log.Named("updater"),
		queue:   make(chan *item, o.Queue),
		entries: make(map[string]*entry),
	}
	u.runCtx, u.cancelRun = context.WithCancel(context.Background())

	if err := u.registerMetrics(o.Registerer); err != nil {
		return nil, err
	}
	return u, nil
}

// registerMetrics builds the updater's metrics and registers them on reg.
func (u *Updater) registerMetrics(reg prometheus.Registerer) error {
	u.updates = metric.CounterVec("assignd_reservation_updates_total", "Reservation updates sent over REST, by instruction and final outcome.", "instruction", "outcome")
	u.attempts = metric.Histogram("assignd_update_attempts", "Attempts each reservation update took, counted when it finished.", prometheus.LinearBuckets(1, 1, 10))
	depth := metric.GaugeFunc("assignd_update_queue_depth", "Reservation updates waiting for a worker.", func() float64 { return float64(len(u.queue)) })
	u.inFlight = metric.Gauge("assignd_updates_in_flight", "Reservation updates taken by a worker and not yet finished, backoff waits included.")
	u.retries = metric.CounterVec("assignd_update_retries_total", "Reservation update attempts that failed and were retried, by reason.", "reason")
	u.duplicates = metric.Counter("assignd_update_duplicates_total", "Callbacks for a reservation whose update was already queued, in flight or finished; not sent again.")
	u.queueFull = metric.Counter("assignd_update_queue_full_total",
		"Updates refused because the queue was full or shutting down; their callbacks got 503 and go to the fallback URL.")
	// Every series exists from the start, so rates and alerts see zeros
	// rather than gaps.
	for _, in := range policy.InstructionNames() {
		for _, oc := range outcomeNames {
			u.updates.WithLabelValues(in, oc)
		}
	}
	for _, r := range retryReasons {
		u.retries.WithLabelValues(r)
	}
	return metric.Register(reg, "updater", u.updates, u.attempts, depth, u.inFlight, u.retries, u.duplicates, u.queueFull)
}

// Start starts the worker pool. Calling it again, or after Shutdown, does
// nothing.
func (u *Updater) Start() {
	u.mu.Lock()
	defer u.mu.Unlock()
	// Under mu, so that no worker is added while Shutdown waits for them.
	if u.closed || u.o.Send == nil {
		return
	}
	u.started.Do(func() {
		for range u.o.Concurrency {
			u.workers.Add(1)
			go u.work()
		}
	})
}

// Enqueue queues an update without blocking. It returns ErrDuplicate when
// an update for the same reservation is already queued, in flight or
// finished (applied, gone or expired), and ErrQueueFull when the queue is
// full or shutdown has begun; the callback then gets a 503 so that
// TaskRouter tries the Workflow's fallback URL.
func (u *Updater) Enqueue(up Update) error {
	now := u.o.Now()
	if up.Received.IsZero() {
		// Without an arrival time the deadline would already have passed
		// and the update would expire unsent.
		up.Received = now
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.pruneLocked(now)
	if _, ok := u.entries[up.ReservationSid]; ok {
		u.duplicates.Inc()
		return ErrDuplicate
	}
	if u.closed {
		u.queueFull.Inc()
		return ErrQueueFull
	}
	e := &entry{sid: up.ReservationSid, state: pending, expires: up.Received.Add(u.o.ReservationTimeout)}
	it := &item{up: up, deadline: up.Received.Add(u.o.ReservationTimeout - u.o.SafetyMargin), entry: e}
	// The send happens under mu so that Shutdown cannot close the channel
	// between the closed check and the send.
	select {
	case u.queue <- it:
	default:
		u.queueFull.Inc()
		return ErrQueueFull
	}
	u.entries[e.sid] = e
	u.expiry = append(u.expiry, e)
	return nil
}

// pruneLocked forgets finished reservations whose timeout has passed, so
// that the duplicate map stays bounded by the callback rate times
// ReservationTimeout.
func (u *Updater) pruneLocked(now time.Time) {
	for len(u.expiry) > 0 && !now.Before(u.expiry[0].expires) {
		e := u.expiry[0]
		u.expiry[0] = nil
		u.expiry = u.expiry[1:]
		// An entry still queued or in flight is removed when it finishes.
		if u.entries[e.sid] == e && e.state == finished {
			delete(u.entries, e.sid)
		}
	}
}

// Shutdown stops intake and waits for the queue to drain. When ctx ends
// first, in-flight attempts are cancelled and every update not yet finished
// ends abandoned; TaskRouter times those reservations out and offers the
// tasks again. It returns ctx's error in that case.
func (u *Updater) Shutdown(ctx context.Context) error {
	u.mu.Lock()
	if !u.closed {
		u.closed = true
		close(u.queue)
	}
	u.mu.Unlock()

	done := make(chan struct{})
	go func() {
		u.workers.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		u.cancelRun()
		<-done
	}
	u.cancelRun()
	// Updates a never-started Updater still holds.
	for it := range u.queue {
		u.finish(it, result{outcome: ResultAbandoned}, u.o.Now())
	}
	return err
}

func (u *Updater) work() {
	defer u.workers.Done()
	for it := range u.queue {
		u.inFlight.Inc()
		u.process(it)
		u.inFlight.Dec()
	}
}

// result is how one update ended.
type result struct {
	outcome  string
	attempts int
	status   int
	code     int
	message  string
	// maybeLanded: an attempt timed out or lost its connection, so when a
	// later one finds the reservation gone, ours has probably taken it.
	maybeLanded bool
}

// process runs one update's attempts until it ends in one outcome.
func (u *Updater) process(it *item) {
	start := u.o.Now()
	var r result
	for {
		if u.runCtx.Err() != nil {
			r.outcome = ResultAbandoned
			break
		}
		now := u.o.Now()
		left := it.deadline.Sub(now)
		if left <= 0 {
			r.outcome = ResultExpired
			break
		}
		r.attempts++
		// The attempt ends by the deadline at the latest, so no request is
		// on the wire after it.
		end := now.Add(u.o.AttemptTimeout)
		if it.deadline.Before(end) {
			end = it.deadline
		}
		reason, wait := u.attempt(it, end, &r)
		if reason == "" {
			break
		}
		if u.runCtx.Err() != nil {
			r.outcome = ResultAbandoned
			break
		}
		if reason == "timeout" || reason == "network" {
			r.maybeLanded = true
		}
		now = u.o.Now()
		left = it.deadline.Sub(now)
		if wait > 0 {
			// TaskRouter said when to come back; if that is past the
			// deadline, no attempt can land in time.
			if wait >= left {
				r.outcome = ResultExpired
				break
			}
		} else {
			wait = u.backoff(r.attempts, left)
		}
		u.retries.WithLabelValues(reason).Inc()
		if err := u.o.Sleep(u.runCtx, wait); err != nil {
			r.outcome = ResultAbandoned
			break
		}
	}
	u.finish(it, r, start)
}

// attempt sends once. It sets r's outcome and returns "" when the update is
// finished, or the retry reason and TaskRouter's Retry-After otherwise.
func (u *Updater) attempt(it *item, end time.Time, r *result) (reason string, retryAfter time.Duration) {
	ctx, cancel := context.WithDeadline(u.runCtx, end)
	err := u.o.Send(ctx, it.up)
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	cancel()
	if err == nil {
		// The log shows the final answer, not an earlier attempt's error.
		r.outcome, r.status, r.code, r.message = ResultApplied, http.StatusOK, 0, ""
		return "", 0
	}
	var re *RESTError
	switch {
	case errors.As(err, &re):
		r.status, r.code, r.message = re.Status, re.Code, re.Message
		switch {
		case re.Status == 429:
			return "429", re.RetryAfter
		case re.Status >= 500:
			return "5xx", re.RetryAfter
		case notPending(re):
			r.outcome = ResultGone
		default:
			r.outcome = ResultRejected
		}
		return "", 0
	case errors.Is(err, ErrInvalid):
		r.outcome, r.message = ResultRejected, err.Error()
		return "", 0
	// A failure without an answer keeps the last answer's status and
	// code in the log: they say more than "timeout" alone.
	case timedOut:
		r.message = err.Error()
		return "timeout", 0
	default:
		r.message = err.Error()
		return "network", 0
	}
}

// notPending reports whether TaskRouter's answer means the reservation
// is no longer pending, so that nothing we could send would apply.
func notPending(re *RESTError) bool {
	if re.Status == 404 || re.Code == 20404 || re.Code == 20409 {
		return true
	}
	if re.Status != 400 {
		return false
	}
	m := strings.ToLower(re.Message)
	// "is already in state [accepted] and cannot be updated" is what
	// TaskRouter answers when another party took the reservation first
	// (twilio-php issue 342): gone, not a request ops must fix.
	return strings.Contains(m, "not pending") ||
		strings.Contains(m, "not in expected state") ||
		strings.Contains(m, "already in state") ||
		strings.Contains(m, "pending state")
}

// backoff is exponential with full jitter: a uniform draw below
// min(cap, base·2^(n-1)), and below the time left, so that no sleep runs
// past the deadline.
func (u *Updater) backoff(n int, left time.Duration) time.Duration {
	ceil := u.o.BackoffCap
	if n <= 30 {
		ceil = min(ceil, u.o.BackoffBase<<(n-1))
	}
	ceil = min(ceil, left)
	return time.Duration(u.o.Jitter() * float64(ceil))
}

// finish records the update's outcome: the duplicate state, the metrics and
// the log line.
func (u *Updater) finish(it *item, r result, start time.Time) {
	u.mu.Lock()
	switch r.outcome {
	case ResultApplied, ResultGone, ResultExpired:
		it.entry.state = finished
		if !u.o.Now().Before(it.entry.expires) && u.entries[it.entry.sid] == it.entry {
			delete(u.entries, it.entry.sid)
		}
	default:
		// Rejected or abandoned: a later callback for the reservation (a
		// retried delivery, another replica) may try again.
		if u.entries[it.entry.sid] == it.entry {
			delete(u.entries, it.entry.sid)
		}
	}
	u.mu.Unlock()

	up := it.up
	u.updates.WithLabelValues(up.Instruction.Name, r.outcome).Inc()
	u.attempts.Observe(float64(r.attempts))

	fields := []zap.Field{
		zap.String("outcome", r.outcome),
		zap.String("reservation_sid", up.ReservationSid),
		zap.String("task_sid", up.TaskSid),
		zap.String("worker_sid", up.WorkerSid),
		zap.String("workspace_sid", up.WorkspaceSid),
		zap.String("rule", up.Rule),
		zap.String("instruction", up.Instruction.Name),
		zap.Int("attempts", r.attempts),
		zap.Int("twilio_code", r.code),
		zap.Int("status", r.status),
		zap.Duration("duration", u.o.Now().Sub(start)),
	}
	if r.outcome == ResultGone && r.maybeLanded {
		fields = append(fields, zap.Bool("earlier_attempt_may_have_landed", true))
	}
	const msg = "reservation update finished"
	switch r.outcome {
	case ResultApplied, ResultGone:
		u.log.Info(msg, fields...)
	case ResultRejected:
		u.log.Error(msg, append(fields, zap.String("twilio_message", r.message))...)
	default:
		if r.message != "" {
			fields = append(fields, zap.String("last_error", r.message))
		}
		u.log.Warn(msg, fields...)
	}
	if ce := u.log.Check(zap.DebugLevel, "reservation update parameters"); ce != nil {
		ce.Write(zap.String("reservation_sid", up.ReservationSid), zap.Any("params", up.Instruction.Redacted().ParamMap()))
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
