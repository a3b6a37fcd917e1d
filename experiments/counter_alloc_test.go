package experiments

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy/experiment"
)

// TestCounterAllocates holds counting to no allocation once an arm's
// counters exist, and checks that the cached metric children count what
// the in-memory counts do.
func TestCounterAllocates(t *testing.T) {
	c, err := NewCounter(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	split, _ := experiment.NewSplit("vip", "", []experiment.Arm{{Name: "control", Weight: 80}, {Name: "treatment", Weight: 20}})
	var arms experiment.Arms
	arms.Record(experiment.NewSet([]*experiment.Split{split}), 0, 1, false)
	count := func() {
		c.Decided(&arms, "vip-conference")
		c.Outcome(&arms, outcome.Accepted)
	}
	count()
	if n := testing.AllocsPerRun(100, count); n != 0 {
		t.Errorf("counting allocates %v times", n)
	}
	c.Decided(&arms, "other-rule")
	if got := testutil.ToFloat64(c.decisions.WithLabelValues("vip", "treatment", "vip-conference")); got != 102 {
		t.Errorf("decisions metric %v, want 102", got)
	}
	if got := testutil.ToFloat64(c.decisions.WithLabelValues("vip", "treatment", "other-rule")); got != 1 {
		t.Errorf("other rule's decisions metric %v, want 1", got)
	}
	if got := testutil.ToFloat64(c.outcomes.WithLabelValues("vip", "treatment", "accepted")); got != 102 {
		t.Errorf("outcomes metric %v, want 102", got)
	}
	for _, cs := range c.Snapshot() {
		if cs.Arm == "treatment" && (cs.Decisions != 103 || cs.Outcomes[outcome.Accepted] != 102) {
			t.Errorf("treatment counts %+v", cs)
		}
	}
}
