package outcome

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assignd/assignd/internal/metric"
)

// Options are what New needs. Capacity, TTL and Registerer are required.
type Options struct {
	// Capacity bounds the decisions remembered: ASSIGND_DECISION_MEMORY.
	Capacity int
	// TTL is how long a decision is remembered: ASSIGND_RESERVATION_TIMEOUT
	// plus MaxWrapUp.
	TTL time.Duration
	// Registerer takes the metrics.
	Registerer prometheus.Registerer
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Tracker remembers decisions and counts the outcomes that events report,
// by rule. It is safe for concurrent use.
type Tracker struct {
	mem *Memory
	// seen holds the Sids of recent event callbacks, so that an event
	// TaskRouter re-sends, or a replayed one, is counted once.
	seen *SIDMemory[struct{}]
	now  func() time.Time

	outcomes *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	// events holds the assignd_events_total children of every known
	// EventType and of OtherType, counted and duplicate; it is never
	// written after New.
	events map[string]eventCounters
	// counts maps a rule name to its *ruleCounts, for GET /-/policy. Rule
	// names come from policies, so the map grows only with reloads.
	counts sync.Map
}

// eventCounters are one EventType's assignd_events_total children.
type eventCounters struct{ counted, duplicate prometheus.Counter }

// The values of assignd_events_total's result label.
const (
	// EventCounted is an event seen for the first time, or one without
	// a Sid.
	EventCounted = "counted"
	// EventDuplicate is an event whose Sid was seen already: answered, not
	// counted again.
	EventDuplicate = "duplicate"
)

// ruleCounts counts one rule's outcomes, by source and outcome.
type ruleCounts struct {
	n [2][7]atomic.Uint64 // [source][outcomeIndex]
}

// outcomeIndex numbers the outcomes for ruleCounts.
var outcomeIndex = map[Outcome]int{Accepted: 0, Rejected: 1, Timeout: 2, Canceled: 3, Rescinded: 4, Wrapup: 5, Completed: 6}

// RuleCounts are one rule's outcome counts, as GET /-/policy shows them;
// outcomes never seen are absent.
type RuleCounts struct {
	Remembered map[Outcome]uint64 `json:"remembered"`
	Recomputed map[Outcome]uint64 `json:"recomputed"`
}

// New builds a Tracker and registers its metrics.
func New(opts Options) (*Tracker, error) {
	switch {
	case opts.Capacity < 1:
		return nil, fmt.Errorf("outcome.New: capacity must be at least 1, not %d", opts.Capacity)
	case opts.TTL <= 0:
		return nil, fmt.Errorf("outcome.New: TTL must be positive, not %s", opts.TTL)
	case opts.Registerer == nil:
		return nil, errors.New("outcome.New: no prometheus registerer")
	}
	t := &Tracker{mem: NewMemory(opts.Capacity, opts.TTL), seen: NewSIDMemory[struct{}](opts.Capacity, opts.TTL), now: opts.Now}
	if t.now == nil {
		t.now = time.Now
	}
	if err := t.register(opts.Registerer); err != nil {
		return nil, err
	}
	return t, nil
}

// register builds and registers the metrics.
func (t *Tracker) register(reg prometheus.Registerer) error {
	t.outcomes = metric.CounterVec("assignd_reservation_outcomes_total",
		"Reservation outcomes reported by TaskRouter events, by the rule that decided the reservation, its instruction, the outcome, and whether the decision was remembered or recomputed.",
		"rule", "instruction", "outcome", "source")
	// From a quick accept to the end of a long call's wrap-up.
	t.seconds = metric.HistogramVec("assignd_reservation_outcome_seconds",
		"Time from a remembered decision to the event reporting its outcome, by rule and outcome.",
		[]float64{1, 2.5, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600}, "rule", "outcome")
	eventsVec := metric.CounterVec("assignd_events_total",
		"TaskRouter event callbacks accepted, by EventType (types the Events reference does not list are \"other\") and result: counted, or duplicate for an event whose Sid was seen already (re-sent or replayed), which is answered but counts nothing else.", "type", "result")
	entries := metric.GaugeFunc("assignd_decision_memory_entries",
		"Decisions remembered for attributing reservation events (ASSIGND_DECISION_MEMORY bounds it).",
		func() float64 { return float64(t.mem.Len()) })
	evictions := metric.CounterFunc("assignd_decision_memory_evictions_total",
		"Remembered decisions dropped, because the memory was full or the entry outlived the reservation timeout plus the longest wrap-up.",
		func() float64 { return float64(t.mem.Evictions()) })
	if err := metric.Register(reg, "outcome", t.outcomes, t.seconds, eventsVec, entries, evictions); err != nil {
		return err
	}
	t.events = make(map[string]eventCounters, len(EventTypes)+1)
	for _, et := range slices.Concat(EventTypes, []string{OtherType}) {
		t.events[et] = eventCounters{eventsVec.WithLabelValues(et, EventCounted), eventsVec.WithLabelValues(et, EventDuplicate)}
	}
	return nil
}

// Remember records the decision for a reservation and reports whether it
// is the reservation's first within the memory: false for a callback
// replayed, or retried through the fallback URL, whose decision then
// replaces the remembered one but should not be counted again.
func (t *Tracker) Remember(reservationSid string, e Entry) (first bool) {
	return t.mem.Put(reservationSid, e, t.now())
}

// Lookup returns the remembered decision for a reservation, if any.
func (t *Tracker) Lookup(reservationSid string) (Entry, bool) {
	return t.mem.Get(reservationSid, t.now())
}

// Memory is the decision memory, for tests and the console.
func (t *Tracker) Memory() *Memory { return t.mem }

// CountEvent counts one accepted event callback by its EventType and
// reports whether it is the first with its Sid (sid, the event's own, is
// empty when the event has none, and then it always counts). A repeat is
// counted as a duplicate only; its caller should count nothing else.
func (t *Tracker) CountEvent(eventType, sid []byte) (first bool) {
	c, ok := t.events[string(eventType)]
	if !ok {
		c = t.events[OtherType]
	}
	first = len(sid) == 0 || t.seen.Put(string(sid), struct{}{}, t.now())
	if first {
		c.counted.Inc()
	} else {
		c.duplicate.Inc()
	}
	return first
}

// Record counts one outcome for rule and instruction. For a remembered
// decision, elapsed is the time from the decision to the event.
func (t *Tracker) Record(o Outcome, rule, instruction string, src Source, elapsed time.Duration) {
	t.outcomes.WithLabelValues(rule, instruction, string(o), string(src)).Inc()
	i := 0
	if src == Remembered {
		t.seconds.WithLabelValues(rule, string(o)).Observe(elapsed.Seconds())
	} else {
		i = 1
	}
	rc, ok := t.counts.Load(rule)
	if !ok {
		rc, _ = t.counts.LoadOrStore(rule, &ruleCounts{})
	}
	rc.(*ruleCounts).n[i][outcomeIndex[o]].Add(1)
}

// Counts returns the outcome counts of every rule that has one, by rule
// name.
func (t *Tracker) Counts() map[string]RuleCounts {
	out := map[string]RuleCounts{}
	t.counts.Range(func(k, v any) bool {
		rc := v.(*ruleCounts)
		c := RuleCounts{Remembered: map[Outcome]uint64{}, Recomputed: map[Outcome]uint64{}}
		for o, i := range outcomeIndex {
			if n := rc.n[0][i].Load(); n > 0 {
				c.Remembered[o] = n
			}
			if n := rc.n[1][i].Load(); n > 0 {
				c.Recomputed[o] = n
			}
		}
		out[k.(string)] = c
		return true
	})
	return out
}

// Summary describes, for the console, how the reservations of rule ended,
// remembered and recomputed together, in the order of Outcomes: "" when
// none has an event yet.
func (t *Tracker) Summary(rule string) string {
	v, ok := t.counts.Load(rule)
	if !ok {
		return ""
	}
	rc := v.(*ruleCounts)
	var parts []string
	for _, o := range Outcomes {
		i := outcomeIndex[o]
		if n := rc.n[0][i].Load() + rc.n[1][i].Load(); n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", o, n))
		}
	}
	return strings.Join(parts, ", ")
}

// EntryBytes is the heap one unit of ASSIGND_DECISION_MEMORY costs, at
// most: a remembered decision and an event Sid, each with its SID and its
// share of its shard's map (TestEntryBytes measures it). The rings and maps
// are allocated for the whole capacity at start and the SIDs as they come;
// nothing grows beyond that.
const EntryBytes = 400
