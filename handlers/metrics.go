package handlers

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assignd/assignd/policy"
)

// metrics are the callback listener's Prometheus metrics. They live on the
// Server, registered on the Registerer given to New, so that each test can
// use a fresh registry.
type metrics struct {
	callbacks         *prometheus.CounterVec
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
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assignd_callbacks_total",
			Help: "Assignment callbacks answered, by HTTP status code.",
		}, []string{"code"}),
		signatureFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "assignd_signature_failures_total",
			Help: "Assignment callbacks refused because X-Twilio-Signature did not match.",
		}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assignd_decisions_total",
			Help: "Policy decisions, by winning rule, instruction and mode.",
		}, []string{"rule", "instruction", "mode"}),
		ruleSkips: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assignd_rule_skips_total",
			Help: "Rules that matched but could not be used, by rule and reason (render, invalid).",
		}, []string{"rule", "reason"}),
		decisionDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "assignd_decision_duration_seconds",
			Help:    "Time spent in the policy's Decide per callback.",
			Buckets: []float64{.000005, .00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01},
		}),
		callbackDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "assignd_callback_duration_seconds",
			Help: "Time from receiving an assignment callback to answering it; TaskRouter gives up after 5s.",
			// TaskRouter's deadline is 5s: the top buckets show how close we come.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
	}
	for _, c := range []prometheus.Collector{m.callbacks, m.signatureFailures, m.decisions, m.ruleSkips, m.decisionDuration, m.callbackDuration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering callback metrics: %w", err)
		}
	}
	for _, code := range callbackCodes {
		m.callbacks.WithLabelValues(strconv.Itoa(code))
	}
	return m, nil
}

// observeDecision counts a decision and the rules it skipped.
func (m *metrics) observeDecision(d *policy.Decision) {
	m.decisions.WithLabelValues(d.Rule, d.Instruction.Name, string(d.Mode)).Inc()
	for _, s := range d.Skipped {
		m.ruleSkips.WithLabelValues(s.Rule, s.Reason).Inc()
	}
}
