package handlers

import (
	"sync"
	"time"

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
// Options.AfterDecision; it is safe for concurrent use.
type DecisionLog struct {
	mu     sync.Mutex
	ring   [RecentSize]RecentDecision
	next   int // where the next decision goes
	n      int // how many of ring are filled
	counts map[string]*RuleCounts
}

// NewDecisionLog returns an empty DecisionLog.
func NewDecisionLog() *DecisionLog {
	return &DecisionLog{counts: map[string]*RuleCounts{}}
}

// Observe records d. It copies what it keeps, as AfterDecision requires,
// and holds the lock only for a few stores.
func (l *DecisionLog) Observe(d *Decided) {
	dec := d.Decision
	r := RecentDecision{At: d.Received, Rule: dec.Rule, Instruction: dec.Instruction.Name, Mode: dec.Mode, Took: d.Took}
	if d.Callback != nil {
		r.ReservationSid = d.Callback.ReservationSid
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ring[l.next] = r
	l.next = (l.next + 1) % RecentSize
	if l.n < RecentSize {
		l.n++
	}
	l.count(dec.Rule).Decisions++
	for _, s := range dec.Skipped {
		l.count(s.Rule).Skips++
	}
}

// count returns rule's counts, creating them; l.mu must be held. The map
// grows only with rule names, which the policy files bound.
func (l *DecisionLog) count(rule string) *RuleCounts {
	c := l.counts[rule]
	if c == nil {
		c = &RuleCounts{}
		l.counts[rule] = c
	}
	return c
}

// Recent returns the kept decisions, newest first.
func (l *DecisionLog) Recent() []RecentDecision {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]RecentDecision, 0, l.n)
	for i := 1; i <= l.n; i++ {
		out = append(out, l.ring[(l.next-i+RecentSize)%RecentSize])
	}
	return out
}

// Counts returns rule's counts; zero for a rule that has not been seen.
func (l *DecisionLog) Counts(rule string) RuleCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.counts[rule]; c != nil {
		return *c
	}
	return RuleCounts{}
}
