// Package shadow evaluates a candidate policy on live traffic: each
// decided callback is handed to one goroutine of the shadow's own, which
// decides the same input with the shadow policy, compares the two
// decisions, counts them and, when they differ, logs them. The hand-off
// never waits: what the shadow cannot keep up with is dropped and counted.
// Nothing here can change or delay what TaskRouter is told.
package shadow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/internal/metric"
	"github.com/assignd/assignd/policy"
)

// Options are what New needs; all are required except Now.
type Options struct {
	// Store holds the shadow policy; it may be empty (a shadow file that
	// never loaded), and then callbacks are counted as unevaluated.
	Store      *policy.Store
	Logger     *zap.Logger
	Registerer prometheus.Registerer
	// Now is the clock of the agreement table; nil is time.Now.
	Now func() time.Time
	// Queue is how many decided callbacks may wait for the shadow; beyond
	// it they are dropped and counted. 0 is DefaultQueue.
	Queue int
	// Share is the most of one core the shadow may use, between 0 and 1;
	// 0 is DefaultShare. After each evaluation the shadow rests in
	// proportion to what it took, and what arrives meanwhile beyond the
	// queue is dropped.
	Share float64
	// BeforeEvaluate, when set, runs on the shadow's goroutine before each
	// evaluation: a test seam to hold the shadow.
	BeforeEvaluate func()
}

// DefaultShare is the default Options.Share. A pod limited to one core
// runs Go with one P, and a shadow that never rests would hold it for a
// scheduler slice (10 ms) whenever a callback's goroutine is ready to run.
const DefaultShare = 0.25

// minRest is the shortest rest the shadow takes: shorter debts add up
// until they reach it, so a cheap shadow does not sleep for every
// callback, and is not limited by the timer's resolution.
const minRest = time.Millisecond

// DefaultQueue is the default Options.Queue. Each waiting callback keeps
// its form's fields alive, up to the body limit, so the queue is short: it
// absorbs bursts, not a shadow slower than the traffic.
const DefaultQueue = 64

// Evaluator runs the shadow policy after each decided callback; its
// Observe is a handlers.Options.AfterDecision observer.
type Evaluator struct {
	store *policy.Store
	log   *zap.Logger
	now   func() time.Time
	// logLimit rate-limits the disagreement lines: a candidate that differs
	// on every callback must not flood the logs. The metrics count all.
	logLimit *rate.Limiter

	decisions   *prometheus.CounterVec
	skips       *prometheus.CounterVec
	unevaluated prometheus.Counter
	dropped     prometheus.Counter
	// droppedN is dropped's count, for the agreement table.
	droppedN atomic.Uint64

	// queue holds the callbacks Observe handed over, for Run.
	queue          chan *callback.Decided
	beforeEvaluate func()
	// restFactor is how long the shadow rests per unit of time it
	// evaluates: 1/Share - 1. clock and rest are Run's, for tests.
	restFactor float64
	clock      func() time.Time
	rest       func(context.Context, time.Duration)
	// unevaluatedN is unevaluated's count, for the agreement table.
	unevaluatedN atomic.Uint64

	// The tables are updated without a lock, on the callback's goroutine:
	// a sync.Map of atomic counters per row. total counts since start;
	// sinceLoad counts for the shadow policy now in the store, and is
	// replaced, not cleared, when a callback meets a newer one.
	started   time.Time
	total     sync.Map // key -> *row
	sinceLoad atomic.Pointer[loadTable]
	skipped   sync.Map // skipKey -> prometheus.Counter
}

// loadTable counts the decisions of one shadow policy.
type loadTable struct {
	policy   *policy.Policy
	loadedAt time.Time
	rows     sync.Map // key -> *atomic.Uint64
}

// key is one row of the agreement table: the label values of
// assignd_shadow_decisions_total.
type key struct {
	live, shadow string
	outcome      policy.Difference
}

type row struct {
	counter prometheus.Counter
	n       atomic.Uint64
}

type skipKey struct{ rule, reason string }

// New returns an Evaluator whose metrics are registered on opts.Registerer.
func New(opts Options) (*Evaluator, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("shadow.New: no policy store")
	case opts.Logger == nil:
		return nil, errors.New("shadow.New: no logger")
	case opts.Registerer == nil:
		return nil, errors.New("shadow.New: no prometheus registerer")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	e := &Evaluator{
		store:    opts.Store,
		log:      opts.Logger.Named("shadow"),
		now:      now,
		logLimit: rate.NewLimiter(rate.Every(time.Second), 10),
		decisions: metric.CounterVec("assignd_shadow_decisions_total",
			"Callbacks the shadow policy decided after the live answer, by live rule, shadow rule and outcome: same, params (same instruction and mode, other parameters) or instruction (another instruction or mode).",
			"live_rule", "shadow_rule", "outcome"),
		unevaluated: metric.Counter("assignd_shadow_unevaluated_total",
			"Callbacks the shadow did not decide because no shadow policy has loaded yet."),
		skips: metric.CounterVec("assignd_shadow_rule_skips_total",
			"Shadow policy rules that matched but could not be used, by rule and reason (render, invalid), as assignd_rule_skips_total counts the live policy's.",
			"rule", "reason"),
		dropped: metric.Counter("assignd_shadow_dropped_total",
			"Callbacks the shadow did not decide because its queue was full: the shadow policy is slower than the traffic. The live answers are not affected."),
		started:        now(),
		queue:          make(chan *callback.Decided, cmp.Or(opts.Queue, DefaultQueue)),
		beforeEvaluate: opts.BeforeEvaluate,
		clock:          time.Now,
		rest:           sleep,
	}
	share := cmp.Or(opts.Share, DefaultShare)
	if share <= 0 || share > 1 {
		return nil, fmt.Errorf("shadow.New: share must be in (0, 1], not %v", share)
	}
	e.restFactor = 1/share - 1
	if err := metric.Register(opts.Registerer, "shadow", e.decisions, e.skips, e.unevaluated, e.dropped); err != nil {
		return nil, err
	}
	return e, nil
}

// Store is the store the shadow policy is read from.
func (e *Evaluator) Store() *policy.Store { return e.store }

// Observe hands d to the shadow's goroutine (Run) and returns at once; a
// handlers.Options.AfterDecision observer. When the queue is full, d is
// dropped and counted in assignd_shadow_dropped_total.
//
// It keeps d after it returns, which is safe because the handler builds a
// new Decided for each callback and nothing it points to changes after the
// decision: the callback's fields are a copy of the form that outlives the
// request, and the decision and input are never written again. So the
// hand-off allocates nothing, and waits for nothing: a full queue is a
// drop, not a wait.
func (e *Evaluator) Observe(d *callback.Decided) {
	select {
	case e.queue <- d:
	default:
		e.dropped.Inc()
		e.droppedN.Add(1)
	}
}

// Run evaluates the callbacks Observe hands over, one at a time, until ctx
// is done; callbacks still waiting then are not evaluated. One goroutine
// that rests in proportion to its work bounds what the shadow costs to
// Options.Share of one core, however slow its policy.
func (e *Evaluator) Run(ctx context.Context) {
	var owed time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-e.queue:
			if e.beforeEvaluate != nil {
				e.beforeEvaluate()
			}
			start := e.clock()
			e.evaluate(d)
			owed += time.Duration(float64(e.clock().Sub(start)) * e.restFactor)
			if owed >= minRest {
				e.rest(ctx, owed)
				owed = 0
			}
		}
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// evaluate decides d's input with the shadow policy and counts how it
// compares with the live decision.
func (e *Evaluator) evaluate(d *callback.Decided) {
	// The shadow policy the handler decoded the input for: one reloaded
	// since might read attribute keys the input does not hold.
	p := d.Shadow
	if p == nil {
		p = e.store.Current()
	}
	if p == nil {
		e.unevaluated.Inc()
		e.unevaluatedN.Add(1)
		return
	}
	sd := p.Decide(d.Input)
	out := policy.Compare(d.Decision, &sd)
	// Logged before it is counted: whoever sees the count sees the line.
	if out != policy.Same {
		e.logDifference(d, &sd, out)
	}
	e.count(p, key{d.Decision.Rule, sd.Rule, out}, sd.Skipped)
}

// count adds one decision of p to both tables, and its skips. A row's
// first count stores it; every later one is a map read and atomic adds.
func (e *Evaluator) count(p *policy.Policy, k key, skips []policy.Skip) {
	r, ok := e.total.Load(k)
	if !ok {
		r, _ = e.total.LoadOrStore(k, &row{counter: e.decisions.WithLabelValues(k.live, k.shadow, string(k.outcome))})
	}
	r.(*row).n.Add(1)
	r.(*row).counter.Inc()
	if t := e.tableFor(p); t != nil {
		n, ok := t.rows.Load(k)
		if !ok {
			n, _ = t.rows.LoadOrStore(k, new(atomic.Uint64))
		}
		n.(*atomic.Uint64).Add(1)
	}
	for _, s := range skips {
		sk := skipKey{s.Rule, s.Reason}
		c, ok := e.skipped.Load(sk)
		if !ok {
			c, _ = e.skipped.LoadOrStore(sk, e.skips.WithLabelValues(s.Rule, s.Reason))
		}
		c.(prometheus.Counter).Inc()
	}
}

// tableFor returns the since-load table of p, starting a new one when p
// is the store's current policy and the table is of an older one; nil
// when p has been replaced already (a callback that raced a reload counts
// since start only).
func (e *Evaluator) tableFor(p *policy.Policy) *loadTable {
	for {
		t := e.sinceLoad.Load()
		if t != nil && t.policy == p {
			return t
		}
		if p != e.store.Current() {
			return nil
		}
		if e.sinceLoad.CompareAndSwap(t, &loadTable{policy: p, loadedAt: e.store.LoadedAt()}) {
			continue
		}
	}
}

// logDifference logs a disagreement at info, rate-limited, and the
// parameters of both, redacted, at debug.
func (e *Evaluator) logDifference(d *callback.Decided, sd *policy.Decision, out policy.Difference) {
	if !e.logLimit.Allow() {
		return
	}
	sid := d.Callback.ReservationSid
	e.log.Info("shadow policy differs",
		zap.String("reservation_sid", sid),
		zap.String("outcome", string(out)),
		zap.String("live_rule", d.Decision.Rule),
		zap.String("shadow_rule", sd.Rule),
		zap.String("live_instruction", d.Decision.Instruction.Name),
		zap.String("shadow_instruction", sd.Instruction.Name),
		zap.String("live_mode", string(d.Decision.Mode)),
		zap.String("shadow_mode", string(sd.Mode)))
	if ce := e.log.Check(zap.DebugLevel, "shadow policy difference detail"); ce != nil {
		ce.Write(
			zap.String("reservation_sid", sid),
			zap.Any("live_params", d.Decision.Instruction.Redacted().ParamMap()),
			zap.Any("shadow_params", sd.Instruction.Redacted().ParamMap()))
	}
}

// Agreement is the JSON answer of GET /-/shadow.
type Agreement struct {
	// Shadow is the shadow policy now running, or nil if none has loaded.
	Shadow *PolicyRef `json:"shadow"`
	// SinceStart counts every callback since the process started;
	// SinceLoad only those decided by the shadow policy now running.
	SinceStart Table `json:"since_start"`
	SinceLoad  Table `json:"since_load"`
	// Unevaluated counts callbacks seen while no shadow policy had loaded.
	Unevaluated uint64 `json:"unevaluated"`
	// Dropped counts callbacks the shadow could not keep up with.
	Dropped uint64 `json:"dropped"`
}

// PolicyRef names a loaded policy.
type PolicyRef struct {
	File     string    `json:"file"`
	Hash     string    `json:"hash"`
	LoadedAt time.Time `json:"loaded_at"`
}

// Table is the agreement counts over a span of time.
type Table struct {
	Since time.Time `json:"since"`
	// Total is Same + Params + Instruction.
	Total       uint64 `json:"total"`
	Same        uint64 `json:"same"`
	Params      uint64 `json:"params"`
	Instruction uint64 `json:"instruction"`
	// Rows are the counts by live rule, shadow rule and outcome, most first.
	Rows []Row `json:"rows"`
}

// Row is one line of a Table.
type Row struct {
	LiveRule   string            `json:"live_rule"`
	ShadowRule string            `json:"shadow_rule"`
	Difference policy.Difference `json:"outcome"`
	Count      uint64            `json:"count"`
}

// Agreement returns the agreement tables as they stand.
func (e *Evaluator) Agreement() Agreement {
	a := Agreement{SinceStart: Table{Since: e.started.UTC()}}
	e.total.Range(func(k, r any) bool {
		a.SinceStart.add(k.(key), r.(*row).n.Load())
		return true
	})
	// The since-load table restarts only when a callback meets a new
	// policy; one loaded since has counted nothing yet.
	cur := e.store.Current()
	t := e.sinceLoad.Load()
	switch {
	case cur != nil && t != nil && t.policy == cur:
		a.SinceLoad.Since = t.loadedAt.UTC()
		t.rows.Range(func(k, n any) bool {
			a.SinceLoad.add(k.(key), n.(*atomic.Uint64).Load())
			return true
		})
	case cur != nil:
		a.SinceLoad.Since = e.store.LoadedAt().UTC()
	case t != nil:
		a.SinceLoad.Since = t.loadedAt.UTC()
	}
	if cur != nil {
		a.Shadow = &PolicyRef{File: cur.File(), Hash: cur.Hash(), LoadedAt: e.store.LoadedAt().UTC()}
	}
	a.Unevaluated = e.unevaluatedN.Load()
	a.Dropped = e.droppedN.Load()
	a.SinceStart.sort()
	a.SinceLoad.sort()
	return a
}

func (t *Table) add(k key, n uint64) {
	t.Rows = append(t.Rows, Row{LiveRule: k.live, ShadowRule: k.shadow, Difference: k.outcome, Count: n})
	t.Total += n
	switch k.outcome {
	case policy.Same:
		t.Same += n
	case policy.Params:
		t.Params += n
	default:
		t.Instruction += n
	}
}

func (t *Table) sort() {
	if t.Rows == nil {
		t.Rows = []Row{}
	}
	slices.SortFunc(t.Rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.LiveRule, b.LiveRule),
			cmp.Compare(a.ShadowRule, b.ShadowRule), cmp.Compare(a.Difference, b.Difference))
	})
}

// Summary describes, for the console, how the shadow policy now running
// compares on callbacks the live rule decided: "" when it has seen none.
func (e *Evaluator) Summary(liveRule string) string { return e.Summaries()[liveRule] }

// Summaries is Summary for every live rule the shadow has seen, from one
// walk of the agreement table: a page that shows every rule calls it once.
func (e *Evaluator) Summaries() map[string]string {
	rules := e.Agreement().SinceLoad.ByRule()
	out := make(map[string]string, len(rules))
	for _, c := range rules {
		if c.Total > 0 {
			out[c.Rule] = fmt.Sprintf("same %d, other params %d, other instruction %d", c.Same, c.Params, c.Instruction)
		}
	}
	return out
}

// RuleCounts is a table's counts for the callbacks one live rule decided.
type RuleCounts struct {
	Rule string
	// Total is Same + Params + Instruction.
	Total, Same, Params, Instruction uint64
}

// ByRule sums the table's rows by live rule, in the order the rules first
// appear in Rows (the most counted first): one pass, however many rules.
func (t Table) ByRule() []RuleCounts {
	var out []RuleCounts
	index := map[string]int{}
	for _, r := range t.Rows {
		i, ok := index[r.LiveRule]
		if !ok {
			i = len(out)
			index[r.LiveRule] = i
			out = append(out, RuleCounts{Rule: r.LiveRule})
		}
		c := &out[i]
		c.Total += r.Count
		switch r.Difference {
		case policy.Same:
			c.Same += r.Count
		case policy.Params:
			c.Params += r.Count
		default:
			c.Instruction += r.Count
		}
	}
	return out
}
