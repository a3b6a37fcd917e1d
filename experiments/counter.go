// Package experiments joins a policy's experiments to TaskRouter's own
// outcomes: a Counter counts, per experiment and arm, the decisions that
// evaluated the experiment and the reservation outcomes their events
// reported, as Prometheus counters and in memory; a Report reads the
// in-memory counts as rates with 95% Wilson intervals, compares each arm
// with the first by a two-proportion test, and plans how many more
// reservations each arm needs. GET /-/experiments serves the Report
// (Handler) and "assignd experiment" prints it (RunExperiment). The
// package imports no HTTP framework and nothing of the listeners.
package experiments

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assignd/assignd/internal/metric"
	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy/experiment"
)

// Counter counts decisions and outcomes per experiment and arm. It is
// safe for concurrent use.
type Counter struct {
	decisions *prometheus.CounterVec
	outcomes  *prometheus.CounterVec

	// arms maps an armKey to its *armCounts; experiments and arms come
	// from policies, so it grows only with reloads that add arms.
	arms sync.Map
	// mu guards order, the experiments and their arms in the order they
	// were declared or first seen, which the report keeps.
	mu    sync.Mutex
	order []expOrder
}

type armKey struct{ experiment, arm string }

type expOrder struct {
	name string
	arms []string
}

// armCounts are one arm's decisions and outcomes, by outcome index, and
// the arm's metric children, cached on first use so that counting takes
// no lock: byRule maps a rule name to its decisions counter.
type armCounts struct {
	decisions atomic.Uint64
	outcomes  [7]atomic.Uint64

	byRule     sync.Map
	outcomeCtr [7]atomic.Pointer[prometheus.Counter]
}

// decisionCounter returns the arm's decisions counter for rule.
func (c *Counter) decisionCounter(ac *armCounts, exp, arm, rule string) prometheus.Counter {
	if v, ok := ac.byRule.Load(rule); ok {
		return v.(prometheus.Counter)
	}
	v, _ := ac.byRule.LoadOrStore(rule, c.decisions.WithLabelValues(exp, arm, rule))
	return v.(prometheus.Counter)
}

// outcomeCounter returns the arm's counter of outcome o, at index j.
func (c *Counter) outcomeCounter(ac *armCounts, exp, arm string, j int, o outcome.Outcome) prometheus.Counter {
	if p := ac.outcomeCtr[j].Load(); p != nil {
		return *p
	}
	ctr := c.outcomes.WithLabelValues(exp, arm, string(o))
	ac.outcomeCtr[j].Store(&ctr)
	return ctr
}

// outcomeIndex numbers outcome.Outcomes for armCounts.
func outcomeIndex(o outcome.Outcome) int {
	for i, x := range outcome.Outcomes {
		if x == o {
			return i
		}
	}
	return -1
}

// NewCounter builds a Counter and registers its two metrics on reg:
// assignd_experiment_decisions_total{experiment,arm,rule} and
// assignd_experiment_outcomes_total{experiment,arm,outcome}.
func NewCounter(reg prometheus.Registerer) (*Counter, error) {
	if reg == nil {
		return nil, errors.New("experiments.NewCounter: no prometheus registerer")
	}
	c := &Counter{
		decisions: metric.CounterVec("assignd_experiment_decisions_total",
			"Decisions that evaluated an experiment's experiment.NAME, by experiment, arm and the rule that then decided.",
			"experiment", "arm", "rule"),
		outcomes: metric.CounterVec("assignd_experiment_outcomes_total",
			"Reservation outcomes reported by TaskRouter events for decisions in an experiment, by experiment, arm and outcome, remembered or recomputed.",
			"experiment", "arm", "outcome"),
	}
	if err := metric.Register(reg, "experiment", c.decisions, c.outcomes); err != nil {
		return nil, err
	}
	return c, nil
}

// Declare makes the experiments of set and all their arms appear in the
// report, in the policy's order, before any decision reaches them; call it
// when a policy loads. Experiments and arms seen before stay.
func (c *Counter) Declare(set *experiment.Set) {
	for i := range set.Len() {
		split := set.Split(i)
		for _, a := range split.Arms() {
			c.counts(split.Name(), a.Name)
		}
	}
}

// counts returns the counts of one arm, creating them, and the arm's
// place in the report, on first use.
func (c *Counter) counts(exp, arm string) *armCounts {
	k := armKey{exp, arm}
	if v, ok := c.arms.Load(k); ok {
		return v.(*armCounts)
	}
	v, loaded := c.arms.LoadOrStore(k, &armCounts{})
	if !loaded {
		c.mu.Lock()
		c.place(exp, arm)
		c.mu.Unlock()
	}
	return v.(*armCounts)
}

// place appends arm to its experiment's list; c.mu is held.
func (c *Counter) place(exp, arm string) {
	for i := range c.order {
		if c.order[i].name == exp {
			c.order[i].arms = append(c.order[i].arms, arm)
			return
		}
	}
	c.order = append(c.order, expOrder{name: exp, arms: []string{arm}})
}

// Decided counts one decision: for each experiment it evaluated, its arm
// and the rule that decided. A decision in no experiment costs nothing.
func (c *Counter) Decided(arms *experiment.Arms, rule string) {
	if arms.Empty() {
		return
	}
	for i := range arms.Len() {
		exp, arm, ok := arms.Get(i)
		if !ok {
			continue
		}
		ac := c.counts(exp, arm)
		ac.decisions.Add(1)
		c.decisionCounter(ac, exp, arm, rule).Inc()
	}
}

// Outcome counts one reservation outcome for the experiments its
// decision, remembered or decided again from the event, evaluated.
func (c *Counter) Outcome(arms *experiment.Arms, o outcome.Outcome) {
	j := outcomeIndex(o)
	if arms.Empty() || j < 0 {
		return
	}
	for i := range arms.Len() {
		exp, arm, ok := arms.Get(i)
		if !ok {
			continue
		}
		ac := c.counts(exp, arm)
		ac.outcomes[j].Add(1)
		c.outcomeCounter(ac, exp, arm, j, o).Inc()
	}
}

// Counts are one arm's counts, as a report is built from them.
type Counts struct {
	Experiment, Arm string
	Decisions       uint64
	Outcomes        map[outcome.Outcome]uint64
}

// Snapshot returns every arm's counts, experiments and arms in report
// order.
func (c *Counter) Snapshot() []Counts {
	c.mu.Lock()
	order := make([]expOrder, len(c.order))
	for i, e := range c.order {
		order[i] = expOrder{name: e.name, arms: append([]string(nil), e.arms...)}
	}
	c.mu.Unlock()
	var out []Counts
	for _, e := range order {
		for _, arm := range e.arms {
			v, _ := c.arms.Load(armKey{e.name, arm})
			ac := v.(*armCounts)
			cs := Counts{Experiment: e.name, Arm: arm, Decisions: ac.decisions.Load(), Outcomes: map[outcome.Outcome]uint64{}}
			for j, o := range outcome.Outcomes {
				if n := ac.outcomes[j].Load(); n > 0 {
					cs.Outcomes[o] = n
				}
			}
			out = append(out, cs)
		}
	}
	return out
}

// Report builds the report of the counts so far; see Build.
func (c *Counter) Report(mde float64) *Report { return Build(c.Snapshot(), mde) }
