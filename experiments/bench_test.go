package experiments

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy/experiment"
)

// BenchmarkCounter measures counting one decision and one outcome for a
// decision in one experiment, as the callback and event paths do.
func BenchmarkCounter(b *testing.B) {
	c, err := NewCounter(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	split, _ := experiment.NewSplit("vip", "", []experiment.Arm{{Name: "control", Weight: 80}, {Name: "treatment", Weight: 20}})
	var arms experiment.Arms
	arms.Record(experiment.NewSet([]*experiment.Split{split}), 0, 1, false)
	b.ReportAllocs()
	for b.Loop() {
		c.Decided(&arms, "vip-conference")
		c.Outcome(&arms, outcome.Accepted)
	}
}
