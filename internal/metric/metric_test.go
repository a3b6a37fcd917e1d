package metric

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetrics checks that each constructor keeps the name, help, labels
// and buckets it was given, by the text exposition a scrape would see.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	cv := CounterVec("t_vec_total", "A vec.", "a", "b")
	cv.WithLabelValues("x", "y").Inc()
	gv := GaugeVec("t_info", "Info.", "hash")
	gv.WithLabelValues("h").Set(1)
	h := Histogram("t_seconds", "Seconds.", []float64{1, 2})
	h.Observe(1.5)
	if err := Register(reg, "test", Counter("t_total", "A counter."), cv, Gauge("t_gauge", "A gauge."), gv,
		GaugeFunc("t_func", "A func.", func() float64 { return 7 }), h); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP t_func A func.
# TYPE t_func gauge
t_func 7
# HELP t_gauge A gauge.
# TYPE t_gauge gauge
t_gauge 0
# HELP t_info Info.
# TYPE t_info gauge
t_info{hash="h"} 1
# HELP t_seconds Seconds.
# TYPE t_seconds histogram
t_seconds_bucket{le="1"} 0
t_seconds_bucket{le="2"} 1
t_seconds_bucket{le="+Inf"} 1
t_seconds_sum 1.5
t_seconds_count 1
# HELP t_total A counter.
# TYPE t_total counter
t_total 0
# HELP t_vec_total A vec.
# TYPE t_vec_total counter
t_vec_total{a="x",b="y"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestRegisterTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := Register(reg, "first", Counter("t_total", "A counter.")); err != nil {
		t.Fatal(err)
	}
	err := Register(reg, "second", Counter("t_total", "A counter."))
	if err == nil || !strings.HasPrefix(err.Error(), "registering second metrics: ") {
		t.Errorf("second registration: %v, want an error naming the second", err)
	}
}
