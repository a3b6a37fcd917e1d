package admin

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// edgeHealth is the console's edge panel, read from the metrics the
// callback listener and the updater already keep: the console adds no
// counter of its own to the callback path.
type edgeHealth struct {
	Configured bool
	// Error is why the metrics could not be read.
	Error string
	// ByStatus are the callbacks answered, by HTTP status in order.
	ByStatus       []labelled
	Answered, OK   uint64
	NotOK          uint64
	SignatureFails uint64
	// Malformed are the callbacks answered 400: a form or field that did
	// not parse.
	Malformed uint64
	// Updates are the REST reservation updates finished, by outcome.
	Updates []labelled
	// QueueDepth is the updates waiting; HasQueue is false without an
	// updater.
	QueueDepth float64
	HasQueue   bool
}

// labelled is one label value's count.
type labelled struct {
	Label string
	Count uint64
}

// Metric names the edge panel reads.
const (
	metricCallbacks   = "assignd_callbacks_total"
	metricSigFailures = "assignd_signature_failures_total"
	metricUpdates     = "assignd_reservation_updates_total"
	metricQueueDepth  = "assignd_update_queue_depth"
)

// readEdge gathers g once and sums what the panel shows.
func readEdge(g prometheus.Gatherer) edgeHealth {
	if g == nil {
		return edgeHealth{}
	}
	e := edgeHealth{Configured: true}
	mfs, err := g.Gather()
	if err != nil && len(mfs) == 0 {
		e.Error = err.Error()
		return e
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case metricCallbacks:
			e.ByStatus = byLabel(mf, "code")
		case metricSigFailures:
			e.SignatureFails = sumCounter(mf)
		case metricUpdates:
			e.Updates = byLabel(mf, "outcome")
		case metricQueueDepth:
			for _, m := range mf.GetMetric() {
				e.QueueDepth += m.GetGauge().GetValue()
			}
			e.HasQueue = true
		}
	}
	for _, s := range e.ByStatus {
		e.Answered += s.Count
		switch s.Label {
		case "200":
			e.OK += s.Count
		case "400":
			e.Malformed += s.Count
		}
	}
	e.NotOK = e.Answered - e.OK
	return e
}

// byLabel sums a counter family by one label, sorted by label value.
func byLabel(mf *dto.MetricFamily, name string) []labelled {
	sums := map[string]uint64{}
	for _, m := range mf.GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == name {
				sums[lp.GetValue()] += uint64(m.GetCounter().GetValue())
			}
		}
	}
	out := make([]labelled, 0, len(sums))
	for k, v := range sums {
		out = append(out, labelled{k, v})
	}
	slices.SortFunc(out, func(a, b labelled) int { return cmp.Compare(a.Label, b.Label) })
	return out
}

// sumCounter sums every series of a counter family.
func sumCounter(mf *dto.MetricFamily) uint64 {
	var n float64
	for _, m := range mf.GetMetric() {
		n += m.GetCounter().GetValue()
	}
	return uint64(n)
}

// formatGauge prints a gauge's value without a needless fraction.
func formatGauge(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
