package experiments

import (
	"math"

	"github.com/assignd/assignd/internal/stats"
	"github.com/assignd/assignd/outcome"
)

// DefaultMDE is the difference in acceptance rate the planner sizes for
// unless told otherwise: two percentage points.
const DefaultMDE = 0.02

// offerOutcomes are the outcomes that end an offer: the denominator of the
// rates. Wrapup and completed follow an accept and would count it twice.
var offerOutcomes = []outcome.Outcome{outcome.Accepted, outcome.Rejected, outcome.Timeout, outcome.Canceled, outcome.Rescinded}

// Report is GET /-/experiments and what "assignd experiment" prints.
type Report struct {
	// MDE is the smallest difference in acceptance rate, as a proportion,
	// that the planner sizes the experiment to detect.
	MDE         float64      `json:"mde"`
	Experiments []Experiment `json:"experiments"`
}

// Experiment is one experiment's arms, their comparison with the first
// arm (the baseline), and the plan.
type Experiment struct {
	Name string `json:"experiment"`
	Arms []Arm  `json:"arms"`
	// Comparisons hold every arm after the first against the first.
	Comparisons []Comparison `json:"comparisons"`
	Plan        Plan         `json:"plan"`
}

// Arm is one arm's counts and rates. Offers are the reservations whose
// offer ended (accepted, rejected, timeout, canceled or rescinded); the
// rates are over them.
type Arm struct {
	Name       string                     `json:"arm"`
	Decisions  uint64                     `json:"decisions"`
	Outcomes   map[outcome.Outcome]uint64 `json:"outcomes"`
	Offers     uint64                     `json:"offers"`
	Acceptance Rate                       `json:"acceptance"`
	Timeout    Rate                       `json:"timeout"`
}

// Rate is a proportion with its 95% Wilson interval; with no offers it is
// 0 in [0, 1].
type Rate struct {
	Rate float64 `json:"rate"`
	Lo   float64 `json:"lo"`
	Hi   float64 `json:"hi"`
}

// Comparison is one arm against the baseline, for acceptance and timeout.
type Comparison struct {
	Arm        string `json:"arm"`
	Baseline   string `json:"baseline"`
	Acceptance Test   `json:"acceptance"`
	Timeout    Test   `json:"timeout"`
}

// Test is a two-proportion z-test of an arm's rate minus the baseline's.
// Tested is false when either arm has no offers or the pooled rate is 0 or
// 1, where Z and P mean nothing.
type Test struct {
	Diff   float64 `json:"diff"`
	Z      float64 `json:"z"`
	P      float64 `json:"p"`
	Tested bool    `json:"tested"`
}

// Plan is the planner: the offers each arm needs to detect MDE in the
// acceptance rate at 80% power with a two-sided 5% test, given the
// baseline's rate so far (0.5, the most demanding, while it has no
// offers), and how many more the arm with the fewest still needs.
type Plan struct {
	BaselineRate float64 `json:"baseline_rate"`
	PerArm       uint64  `json:"per_arm"`
	MoreNeeded   uint64  `json:"more_needed"`
	// Fewest is the arm with the fewest offers, which MoreNeeded is for.
	Fewest string `json:"fewest_arm"`
	// Done is set once every arm has PerArm offers: stop, and read the
	// comparison then, not before.
	Done bool `json:"done"`
}

// Build reads counts, grouped by experiment in order, into a report.
// mde must be in (0, 1); other values mean DefaultMDE.
func Build(counts []Counts, mde float64) *Report {
	if !(mde > 0 && mde < 1) {
		mde = DefaultMDE
	}
	r := &Report{MDE: mde, Experiments: []Experiment{}}
	for _, c := range counts {
		if n := len(r.Experiments); n == 0 || r.Experiments[n-1].Name != c.Experiment {
			r.Experiments = append(r.Experiments, Experiment{Name: c.Experiment, Comparisons: []Comparison{}})
		}
		e := &r.Experiments[len(r.Experiments)-1]
		e.Arms = append(e.Arms, newArm(c))
	}
	for i := range r.Experiments {
		r.Experiments[i].compare(mde)
	}
	return r
}

// newArm computes one arm's rates.
func newArm(c Counts) Arm {
	a := Arm{Name: c.Arm, Decisions: c.Decisions, Outcomes: c.Outcomes}
	if a.Outcomes == nil {
		a.Outcomes = map[outcome.Outcome]uint64{}
	}
	for _, o := range offerOutcomes {
		a.Offers += a.Outcomes[o]
	}
	a.Acceptance = rate(a.Outcomes[outcome.Accepted], a.Offers)
	a.Timeout = rate(a.Outcomes[outcome.Timeout], a.Offers)
	return a
}

func rate(k, n uint64) Rate {
	ci := stats.Wilson(k, n)
	r := Rate{Lo: round6(ci.Lo), Hi: round6(ci.Hi)}
	if n > 0 {
		r.Rate = round6(float64(k) / float64(n))
	}
	return r
}

// round6 keeps six decimals: more than any rate here can support, and
// few enough that the report reads the same on every platform.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// compare fills the comparisons with the first arm and the plan.
func (e *Experiment) compare(mde float64) {
	base := e.Arms[0]
	for _, a := range e.Arms[1:] {
		e.Comparisons = append(e.Comparisons, Comparison{
			Arm: a.Name, Baseline: base.Name,
			Acceptance: test(base.Outcomes[outcome.Accepted], base.Offers, a.Outcomes[outcome.Accepted], a.Offers),
			Timeout:    test(base.Outcomes[outcome.Timeout], base.Offers, a.Outcomes[outcome.Timeout], a.Offers),
		})
	}
	p := 0.5
	if base.Offers > 0 {
		p = base.Acceptance.Rate
	}
	e.Plan = Plan{BaselineRate: round6(p), PerArm: perArm(p, mde)}
	fewest := uint64(math.MaxUint64)
	for _, a := range e.Arms {
		if a.Offers < fewest {
			fewest, e.Plan.Fewest = a.Offers, a.Name
		}
	}
	if fewest < e.Plan.PerArm {
		e.Plan.MoreNeeded = e.Plan.PerArm - fewest
	}
	e.Plan.Done = len(e.Arms) > 1 && e.Plan.MoreNeeded == 0
}

// perArm is the sample size for detecting p moving by mde, in whichever
// direction stays inside (0, 1); a baseline of 0 or 1 is treated as one
// offer away from it, so that the plan still says something.
func perArm(p, mde float64) uint64 {
	p = math.Min(math.Max(p, 0.001), 0.999)
	q := p + mde
	if q >= 1 {
		q = p - mde
	}
	if q <= 0 {
		q = math.Min(p+mde, 0.999)
	}
	return stats.SampleSize(p, q)
}

func test(k1, n1, k2, n2 uint64) Test {
	zt, ok := stats.TwoProportion(k1, n1, k2, n2)
	return Test{Diff: round6(zt.Diff), Z: round6(zt.Z), P: round6(zt.P), Tested: ok}
}
