package experiments

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/tools/txtar"

	"github.com/assignd/assignd/internal/stats"
	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
)

const experimentPolicy = `
version: 1
experiments:
  vip_conference:
    key: "{{task.from}}"
    arms: {control: 80, treatment: 20}
rules:
  - name: vip-conference
    when: task.tier == "gold" AND experiment.vip_conference == "treatment"
    instruction: conference
    params: {from: "+15005550006"}
  - name: vip-dequeue
    when: task.tier == "gold"
    instruction: dequeue
    params: {to: "client:vip"}
  - name: default
    instruction: accept
`

// syntheticOutcome is what became of caller i's reservation: treatment
// callers are accepted more often and time out less, so that the two
// arms' rates differ.
func syntheticOutcome(i int, arm string) outcome.Outcome {
	m := i % 20
	if arm == "treatment" {
		m = (m + 2) % 20
	}
	switch {
	case m < 3:
		return outcome.Timeout
	case m < 4:
		return outcome.Rejected
	case m == 4 && i%3 == 0:
		return outcome.Canceled
	}
	return outcome.Accepted
}

// tally is the test's own count of one arm.
type tally struct{ decisions, offers, accepted, timeout uint64 }

// TestCounterReportMatchesOwnTally decides 2,000 gold callers and 500
// silver ones, reports an outcome for each reservation (and a wrapup and
// completed after each accept, which must not count twice), and checks
// the report and the metrics against the test's own tally.
func TestCounterReportMatchesOwnTally(t *testing.T) {
	p, err := policy.Parse("test.yaml", []byte(experimentPolicy))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	c, err := NewCounter(reg)
	if err != nil {
		t.Fatal(err)
	}
	c.Declare(p.Experiments().Set())
	want := map[string]*tally{"control": {}, "treatment": {}}
	rules := map[[2]string]float64{}
	for i := range 2500 {
		tier := "gold"
		if i >= 2000 {
			tier = "silver"
		}
		in := &policy.Input{Task: map[string]any{"tier": tier, "from": fmt.Sprintf("+1415555%04d", i)},
			Callback: map[string]any{"TaskSid": fmt.Sprintf("WT%032d", i)}, Now: time.Unix(0, 0)}
		d := p.Decide(in)
		c.Decided(&d.Experiments, d.Rule)
		_, arm, in_ := d.Experiments.Get(0)
		if in_ != (tier == "gold") {
			t.Fatalf("caller %d (%s): in the experiment = %v", i, tier, in_)
		}
		o := syntheticOutcome(i, arm)
		c.Outcome(&d.Experiments, o)
		if o == outcome.Accepted {
			c.Outcome(&d.Experiments, outcome.Wrapup)
			c.Outcome(&d.Experiments, outcome.Completed)
		}
		if !in_ {
			continue
		}
		tl := want[arm]
		tl.decisions++
		rules[[2]string{arm, d.Rule}]++
		tl.offers++
		switch o {
		case outcome.Accepted:
			tl.accepted++
		case outcome.Timeout:
			tl.timeout++
		}
	}
	r := c.Report(0.02)
	if len(r.Experiments) != 1 || len(r.Experiments[0].Arms) != 2 {
		t.Fatalf("report: %s", r.JSON())
	}
	for _, a := range r.Experiments[0].Arms {
		tl := want[a.Name]
		acc, to := float64(tl.accepted)/float64(tl.offers), float64(tl.timeout)/float64(tl.offers)
		if a.Decisions != tl.decisions || a.Offers != tl.offers || a.Outcomes[outcome.Accepted] != tl.accepted ||
			math.Abs(a.Acceptance.Rate-acc) > 1e-6 || math.Abs(a.Timeout.Rate-to) > 1e-6 {
			t.Errorf("arm %s: report %+v, tally %+v (acceptance %.4f, timeout %.4f)", a.Name, a, *tl, acc, to)
		}
		if ci := stats.Wilson(tl.accepted, tl.offers); math.Abs(a.Acceptance.Lo-ci.Lo) > 1e-6 || math.Abs(a.Acceptance.Hi-ci.Hi) > 1e-6 {
			t.Errorf("arm %s: acceptance interval [%v, %v], want %v", a.Name, a.Acceptance.Lo, a.Acceptance.Hi, ci)
		}
		if got := testutil.ToFloat64(c.outcomes.WithLabelValues("vip_conference", a.Name, "accepted")); got != float64(tl.accepted) {
			t.Errorf("arm %s: accepted metric %v, want %d", a.Name, got, tl.accepted)
		}
	}
	if share := float64(want["treatment"].decisions) / 2000; math.Abs(share-0.2) > 0.03 {
		t.Errorf("treatment got %.3f of gold callers, weight 0.20", share)
	}
	for k, n := range rules {
		if got := testutil.ToFloat64(c.decisions.WithLabelValues("vip_conference", k[0], k[1])); got != n {
			t.Errorf("decisions{arm=%s,rule=%s} = %v, want %v", k[0], k[1], got, n)
		}
	}
	if rules[[2]string{"control", "vip-conference"}] != 0 || rules[[2]string{"treatment", "vip-dequeue"}] != 0 {
		t.Errorf("an arm was decided by the other arm's rule: %v", rules)
	}
	cmp := r.Experiments[0].Comparisons[0]
	if zt, _ := stats.TwoProportion(want["control"].accepted, want["control"].offers, want["treatment"].accepted, want["treatment"].offers); math.Abs(cmp.Acceptance.Z-zt.Z) > 1e-6 {
		t.Errorf("acceptance z %v, want %v", cmp.Acceptance.Z, zt.Z)
	}
}

// TestReportGolden pins the text and JSON of fixed counts: a finished
// experiment, one still running, and one declared but never reached.
func TestReportGolden(t *testing.T) {
	const file = "testdata/report.txtar"
	a := testkit.ReadArchive(t, file)
	counts := []Counts{
		{Experiment: "vip_conference", Arm: "control", Decisions: 8420, Outcomes: map[outcome.Outcome]uint64{
			outcome.Accepted: 6736, outcome.Rejected: 424, outcome.Timeout: 1180, outcome.Canceled: 60, outcome.Wrapup: 6736, outcome.Completed: 6720}},
		{Experiment: "vip_conference", Arm: "treatment", Decisions: 8380, Outcomes: map[outcome.Outcome]uint64{
			outcome.Accepted: 7040, outcome.Rejected: 360, outcome.Timeout: 922, outcome.Rescinded: 18}},
		{Experiment: "spanish_first", Arm: "control", Decisions: 90, Outcomes: map[outcome.Outcome]uint64{outcome.Accepted: 70, outcome.Timeout: 15}},
		{Experiment: "spanish_first", Arm: "treatment", Decisions: 10, Outcomes: map[outcome.Outcome]uint64{outcome.Accepted: 9, outcome.Timeout: 1}},
		{Experiment: "idle", Arm: "control"},
		{Experiment: "idle", Arm: "treatment"},
	}
	r := Build(counts, 0.02)
	var text bytesBuffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	empty := Build(nil, 0)
	var emptyText bytesBuffer
	_ = empty.WriteText(&emptyText)
	testkit.Golden(t, file, a,
		txtar.File{Name: "text", Data: text.b},
		txtar.File{Name: "json", Data: r.JSON()},
		txtar.File{Name: "empty.text", Data: emptyText.b},
		txtar.File{Name: "empty.json", Data: empty.JSON()})
}

type bytesBuffer struct{ b []byte }

func (w *bytesBuffer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
