package shadow

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/policy"
)

const candidate = `version: 1
rules:
  - name: es
    when: task.language == "es"
    instruction: dequeue
    params: {from: "+15005550006", to: "client:es"}
  - name: fallback
    instruction: dequeue
    params: {from: "+15005550006", to: "client:b"}
`

// newCandidate returns an Evaluator whose store runs the candidate policy.
func newCandidate(t *testing.T) (*policy.Policy, *policy.Store, *Evaluator) {
	t.Helper()
	p, err := policy.Parse("candidate.yaml", []byte(candidate))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	store, err := policy.NewShadowStore(zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	store.Set(p)
	e, err := New(Options{Store: store, Logger: zap.NewNop(), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return p, store, e
}

// TestObserveCost checks that the shadow costs no allocation beyond its
// own decision, once its rows exist.
func TestObserveCost(t *testing.T) {
	p, _, e := newCandidate(t)
	for _, tc := range []struct {
		name     string
		language string
		want     policy.Difference
	}{
		{"agreeing", "es", policy.Same},
		{"differing", "en", policy.Params},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &policy.Input{Task: map[string]any{"language": tc.language}, Now: time.Now()}
			live := p.Decide(in)
			live.Instruction.Params = []policy.Param{{Name: "from", Value: "+15005550006"}, {Name: "to", Value: "client:es"}}
			d := &callback.Decided{Callback: &callback.Callback{ReservationSid: "WR1"}, Input: in, Decision: &live}
			e.evaluate(d)
			decide := testing.AllocsPerRun(200, func() { p.Decide(in) })
			observe := testing.AllocsPerRun(200, func() { e.evaluate(d) })
			if observe > decide {
				t.Errorf("Observe allocates %v times, Decide alone %v", observe, decide)
			}
			a := e.Agreement()
			found := false
			for _, r := range a.SinceLoad.Rows {
				found = found || r.Difference == tc.want
			}
			if !found {
				t.Errorf("no %s row in %+v", tc.want, a.SinceLoad.Rows)
			}
		})
	}
}

// TestSummaryAndReload checks the console's per-rule line, and that the
// since-load counts start again when the shadow policy is replaced while
// the since-start counts go on.
func TestSummaryAndReload(t *testing.T) {
	_, store, e := newCandidate(t)
	observe := func(language, liveTo string) {
		in := &policy.Input{Task: map[string]any{"language": language}, Now: time.Now()}
		live := policy.Decision{Rule: "live", Mode: policy.Respond, Instruction: policy.Instruction{Name: policy.Dequeue,
			Params: []policy.Param{{Name: "from", Value: "+15005550006"}, {Name: "to", Value: liveTo}}}}
		e.evaluate(&callback.Decided{Callback: &callback.Callback{ReservationSid: "WR1"}, Input: in, Decision: &live})
	}
	observe("es", "client:es")
	observe("es", "client:es")
	observe("en", "client:es")
	if got, want := e.Summary("live"), "same 2, other params 1, other instruction 0"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if got := e.Summary("other"); got != "" {
		t.Errorf("Summary(other) = %q, want none", got)
	}

	p2, err := policy.Parse("candidate2.yaml", []byte(candidate+"# changed\n"))
	if err != nil {
		t.Fatal(err)
	}
	store.Set(p2)
	observe("es", "client:es")
	a := e.Agreement()
	if a.SinceStart.Total != 4 || a.SinceLoad.Total != 1 || a.SinceLoad.Same != 1 {
		t.Errorf("after a new shadow policy: since start %+v, since load %+v", a.SinceStart, a.SinceLoad)
	}
}

// TestTableByRule sums rows by live rule in the order the rules first
// appear, every difference in its column.
func TestTableByRule(t *testing.T) {
	tab := Table{Rows: []Row{
		{LiveRule: "vip", ShadowRule: "vip", Difference: policy.Same, Count: 5},
		{LiveRule: "default", ShadowRule: "default", Difference: policy.Same, Count: 4},
		{LiveRule: "vip", ShadowRule: "vip2", Difference: policy.Params, Count: 2},
		{LiveRule: "vip", ShadowRule: "other", Difference: policy.OtherInstruction, Count: 1},
	}}
	got := tab.ByRule()
	want := []RuleCounts{{Rule: "vip", Total: 8, Same: 5, Params: 2, Instruction: 1}, {Rule: "default", Total: 4, Same: 4}}
	if !slices.Equal(got, want) {
		t.Errorf("ByRule() = %+v, want %+v", got, want)
	}
}
