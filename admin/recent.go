package admin

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/policy"
)

// RecentSize is how many decisions the console lists.
const RecentSize = 200

// RecentDecision is one answered callback as the console lists it: no
// attributes and no parameters, which may hold phone numbers.
type RecentDecision struct {
	At             time.Time
	ReservationSid string
	Rule           string
	Instruction    string
	Mode           policy.Mode
	// Took is how long the policy took to decide.
	Took time.Duration
}

// RuleCounts are what happened to one rule since the process started.
type RuleCounts struct {
	// Decisions counts the callbacks the rule decided; Skips, those where it
	// matched but could not render or check a parameter.
	Decisions, Skips uint64
}

// DecisionLog keeps the last RecentSize decisions in a fixed ring and
// counts decisions and skips per rule name. Observe feeds it from
// Options.AfterDecision on every callback's goroutine, so it takes no lock:
// a slot of the ring is an atomic pointer, and a rule's counts are atomic
// counters in a sync.Map.
type DecisionLog struct {
	ring [RecentSize]atomic.Pointer[RecentDecision]
	// seq counts the decisions ever observed; the next goes to seq's slot.
	seq    atomic.Uint64
	counts sync.Map // rule name -> *ruleCounters
}

type ruleCounters struct {
	decisions, skips atomic.Uint64
	perMinute        MinuteRing
}

// NewDecisionLog returns an empty DecisionLog.
func NewDecisionLog() *DecisionLog { return &DecisionLog{} }

// Observe records d. It copies the SID it keeps, so that the kept
// decisions do not pin their callbacks' forms.
// A repeated reservation (a replay, a fallback retry) is neither listed
// nor counted again, so that replaying one captured callback cannot push
// the others out of the list.
func (l *DecisionLog) Observe(d *callback.Decided) {
	if d.Repeat {
		return
	}
	dec := d.Decision
	r := &RecentDecision{At: d.Received, Rule: dec.Rule, Instruction: dec.Instruction.Name, Mode: dec.Mode, Took: d.Took}
	if d.Callback != nil {
		// Cloned: the callback's fields share one string, the whole form,
		// which 200 kept decisions must not pin.
		r.ReservationSid = strings.Clone(d.Callback.ReservationSid)
	}
	n := l.seq.Add(1)
	l.ring[(n-1)%RecentSize].Store(r)
	c := l.counters(dec.Rule)
	c.decisions.Add(1)
	c.perMinute.Add(d.Received)
	for _, s := range dec.Skipped {
		l.counters(s.Rule).skips.Add(1)
	}
}

// counters returns rule's counters, creating them. The map grows only with
// rule names, which the policy files bound.
func (l *DecisionLog) counters(rule string) *ruleCounters {
	c, ok := l.counts.Load(rule)
	if !ok {
		c, _ = l.counts.LoadOrStore(rule, new(ruleCounters))
	}
	return c.(*ruleCounters)
}

// Recent returns the kept decisions, newest first. Decisions observed while
// it reads may or may not be in it.
func (l *DecisionLog) Recent() []RecentDecision {
	n := l.seq.Load()
	kept := min(n, RecentSize)
	out := make([]RecentDecision, 0, kept)
	for i := uint64(0); i < kept; i++ {
		if r := l.ring[(n-1-i)%RecentSize].Load(); r != nil {
			out = append(out, *r)
		}
	}
	return out
}

// Counts returns rule's counts; zero for a rule that has not been seen.
func (l *DecisionLog) Counts(rule string) RuleCounts {
	c, ok := l.counts.Load(rule)
	if !ok {
		return RuleCounts{}
	}
	rc := c.(*ruleCounters)
	return RuleCounts{Decisions: rc.decisions.Load(), Skips: rc.skips.Load()}
}

// PerMinute returns rule's decisions in each of the Minutes minutes up to
// and including now's, oldest first; zeros for a rule not seen.
func (l *DecisionLog) PerMinute(rule string, now time.Time) [Minutes]uint64 {
	c, ok := l.counts.Load(rule)
	if !ok {
		return [Minutes]uint64{}
	}
	return c.(*ruleCounters).perMinute.Counts(now)
}
