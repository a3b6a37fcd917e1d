package handlers

import (
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assignd/assignd/internal/metric"
	"github.com/assignd/assignd/policy"
)

// metrics are the callback listener's Prometheus metrics. They live on the
// Server, registered on the Registerer given to New, so that each test can
// use a fresh registry.
type metrics struct {
	callbacks *prometheus.CounterVec
	// eventRefusals counts event callbacks answered with an error, by
	// status code: what assignd_events_total, which counts the accepted
	// ones, cannot show.
	eventRefusals *prometheus.CounterVec
	refusedByCode map[int]prometheus.Counter
	// byCode holds the children of callbacks for callbackCodes, resolved
	// once so that answering a callback looks up no label values.
	byCode            map[int]prometheus.Counter
	decisionCounters  decisionCounters
	signatureFailures prometheus.Counter
	decisions         *prometheus.CounterVec
	ruleSkips         *prometheus.CounterVec
	decisionDuration  prometheus.Histogram
	callbackDuration  prometheus.Histogram
}

// callbackCodes are the status codes the callback handler answers with;
// each is initialized so that it is scraped as 0 from the start.
var callbackCodes = []int{
	200, 400, 403, 404, 405, 408, 413, 415, 500, 503,
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		callbacks:         metric.CounterVec("assignd_callbacks_total", "Assignment callbacks answered, by HTTP status code.", "code"),
		eventRefusals:     metric.CounterVec("assignd_event_refusals_total", "Event callbacks refused, by HTTP status code (the reason: 403 signature, 413 size, 400 malformed, ...).", "code"),
		signatureFailures: metric.Counter("assignd_signature_failures_total", "Assignment callbacks refused because X-Twilio-Signature did not match."),
		decisions:         metric.CounterVec("assignd_decisions_total", "Policy decisions, by winning rule, instruction and mode.", "rule", "instruction", "mode"),
		ruleSkips:         metric.CounterVec("assignd_rule_skips_total", "Rules that matched but could not be used, by rule and reason (render, invalid).", "rule", "reason"),
		decisionDuration: metric.Histogram("assignd_decision_duration_seconds", "Time spent in the policy's Decide per callback.",
			[]float64{.000005, .00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01}),
		// TaskRouter's deadline is 5s: the top buckets show how close we come.
		callbackDuration: metric.Histogram("assignd_callback_duration_seconds", "Time from receiving an assignment callback to answering it; TaskRouter gives up after 5s.",
			[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}),
	}
	if err := metric.Register(reg, "callback", m.callbacks, m.eventRefusals, m.signatureFailures, m.decisions, m.ruleSkips, m.decisionDuration, m.callbackDuration); err != nil {
		return nil, err
	}
	m.byCode = make(map[int]prometheus.Counter, len(callbackCodes))
	for _, code := range callbackCodes {
		m.byCode[code] = m.callbacks.WithLabelValues(strconv.Itoa(code))
	}
	m.refusedByCode = make(map[int]prometheus.Counter, len(callbackCodes))
	for _, code := range callbackCodes {
		if code >= http.StatusBadRequest {
			m.refusedByCode[code] = m.eventRefusals.WithLabelValues(strconv.Itoa(code))
		}
	}
	m.decisionCounters.vec = m.decisions
	return m, nil
}

// answered counts a callback answered with code.
func (m *metrics) answered(code int) {
	if c, ok := m.byCode[code]; ok {
		c.Inc()
		return
	}
	m.callbacks.WithLabelValues(strconv.Itoa(code)).Inc()
}

// eventRefused counts an event callback refused with code.
func (m *metrics) eventRefused(code int) {
	if c, ok := m.refusedByCode[code]; ok {
		c.Inc()
		return
	}
	m.eventRefusals.WithLabelValues(strconv.Itoa(code)).Inc()
}

// observeDecision counts a decision and the rules it skipped.
func (m *metrics) observeDecision(d *policy.Decision) {
	m.decisionCounters.get(decisionKey{d.Rule, d.Instruction.Name, d.Mode}).Inc()
	for _, s := range d.Skipped {
		m.ruleSkips.WithLabelValues(s.Rule, s.Reason).Inc()
	}
}

// decisionKey is the label values of assignd_decisions_total.
type decisionKey struct {
	rule, instruction string
	mode              policy.Mode
}

// decisionCounters resolves the children of assignd_decisions_total once
// per label values. The values are the policy's rule and instruction names,
// which change only on a reload, so the hot path reads a map that is
// replaced, never changed, and takes no lock.
type decisionCounters struct {
	vec *prometheus.CounterVec
	mu  sync.Mutex // serializes writers of m
	m   atomic.Pointer[map[decisionKey]prometheus.Counter]
}

func (dc *decisionCounters) get(k decisionKey) prometheus.Counter {
	if m := dc.m.Load(); m != nil {
		if c, ok := (*m)[k]; ok {
			return c
		}
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	old := dc.m.Load()
	if old != nil {
		if c, ok := (*old)[k]; ok {
			return c
		}
	}
	next := make(map[decisionKey]prometheus.Counter, 1)
	if old != nil {
		maps.Copy(next, *old)
	}
	c := dc.vec.WithLabelValues(k.rule, k.instruction, string(k.mode))
	next[k] = c
	dc.m.Store(&next)
	return c
}
