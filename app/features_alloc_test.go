package app

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/decisionlog"
	"github.com/assignd/assignd/experiments"
	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
)

// TestFeatureObserversAllocate holds the callback path's share of the
// features to nothing: counting a decision in an experiment and handing it
// to the decision log allocate nothing, once the arm's counters exist, and
// so does counting an outcome for an arm without a decision log.
func TestFeatureObserversAllocate(t *testing.T) {
	p, err := policy.Parse("policy.yaml", []byte(experimentPolicy))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	counter, err := experiments.NewCounter(reg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := decisionlog.New(decisionlog.Options{Sink: "file:" + filepath.Join(t.TempDir(), "d.jsonl"), MaxMB: 1, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	in := &policy.Input{Task: map[string]any{"tier": "gold", "from": "+15551230000"}, Now: time.Now()}
	d := p.Decide(in)
	if d.Experiments.Empty() {
		t.Fatal("the decision is in no experiment")
	}
	cb := &callback.Callback{ReservationSid: "WR00000000000000000000000000000001"}
	decided := &callback.Decided{Callback: cb, Input: in, Policy: p, Decision: &d}
	a := &App{feat: features{experiments: counter, records: l}}
	observers := afterAll(a.featureObservers())
	observers(decided)
	if n := testing.AllocsPerRun(200, func() { observers(decided) }); n != 0 {
		t.Errorf("the feature observers allocate %v times a decision", n)
	}

	a.feat.records = nil
	after := a.afterEvent()
	ev := &handlers.Event{Callback: cb, Outcome: outcome.Accepted, Rule: d.Rule, Source: outcome.Remembered, Experiments: &d.Experiments}
	after(ev)
	if n := testing.AllocsPerRun(200, func() { after(ev) }); n != 0 {
		t.Errorf("counting an outcome allocates %v times", n)
	}
}
