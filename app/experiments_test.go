package app

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
)

// experimentPolicy splits gold callers 80:20 by their number: treatment
// is dequeued, control accepted, so that the answer shows the arm.
const experimentPolicy = `version: 1
experiments:
  vip_conference:
    key: "{{task.from}}"
    arms: {control: 80, treatment: 20}
rules:
  - name: vip-treatment
    when: task.tier == "gold" AND experiment.vip_conference == "treatment"
    instruction: dequeue
    params: {to: "client:gold-desk"}
  - name: vip-control
    when: task.tier == "gold"
    instruction: accept
  - name: default
    instruction: accept
`

// callerN is caller i's number and reservation.
func callerN(i int) (from, reservation string) {
	return fmt.Sprintf("+1555%07d", i), fmt.Sprintf("WR%032d", i)
}

// experimentForm is a gold caller's assignment callback, or the fields of
// its reservation event when eventType is set.
func experimentForm(i int, eventType string) url.Values {
	from, res := callerN(i)
	f := devCallback()
	f.Set("ReservationSid", res)
	f.Set("TaskAttributes", `{"tier":"gold","from":"`+from+`"}`)
	if eventType != "" {
		f.Set("EventType", eventType)
		f.Set("ResourceSid", res)
	}
	return f
}

// outcomeOf is the outcome the test reports for caller i in arm: the
// arms accept at different rates, and control times out some.
func outcomeOf(i int, arm string) outcome.Outcome {
	switch {
	case arm == "treatment" && i%2 == 0, arm == "control" && i%4 != 0:
		return outcome.Accepted
	case arm == "treatment":
		return outcome.Rejected
	}
	return outcome.Timeout
}

// startDevPolicy runs the app in development mode on a policy file
// holding src.
func startDevPolicy(t *testing.T, src string) *running {
	t.Helper()
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Dev = true
	cfg.PolicyFile = file
	return start(t, cfg)
}

// armCount is what the test expects of one arm.
type armCount struct {
	decisions uint64
	outcomes  map[outcome.Outcome]uint64
}

// TestServeExperimentsEndToEnd sends assignment callbacks for 2,000
// distinct callers through the real listener, tells each arm apart by its
// answer, reports an outcome event for each, plus events for 100
// reservations another replica decided, and checks that GET
// /-/experiments shows the decisions, outcomes and rates the test counted
// itself, and that the metrics agree.
func TestServeExperimentsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("4,100 requests")
	}
	r := startDevPolicy(t, experimentPolicy)

	want := map[string]*armCount{"control": {outcomes: map[outcome.Outcome]uint64{}}, "treatment": {outcomes: map[outcome.Outcome]uint64{}}}
	const callers = 2000
	for i := range callers {
		code, _, body := postForm(t, r.callback+handlers.AssignmentPath, experimentForm(i, ""), "")
		arm := "control"
		switch {
		case code != 200:
			t.Fatalf("caller %d: %d %s", i, code, body)
		case strings.Contains(body, `"dequeue"`):
			arm = "treatment"
		}
		want[arm].decisions++
		o := outcomeOf(i, arm)
		want[arm].outcomes[o]++
		if code, _, body := postForm(t, r.callback+handlers.EventsPath, experimentForm(i, "reservation."+string(o)), ""); code != 204 {
			t.Fatalf("event %d: %d %s", i, code, body)
		}
	}
	// Another replica decided these: the event's arm is decided again, and
	// counts no decision.
	p, err := policy.Parse("policy.yaml", []byte(experimentPolicy))
	if err != nil {
		t.Fatal(err)
	}
	for i := callers; i < callers+100; i++ {
		from, _ := callerN(i)
		d := p.Decide(&policy.Input{Task: map[string]any{"tier": "gold", "from": from}, Now: time.Now()})
		_, arm, _ := d.Experiments.Get(0)
		o := outcomeOf(i, arm)
		want[arm].outcomes[o]++
		if code, _, body := postForm(t, r.callback+handlers.EventsPath, experimentForm(i, "reservation."+string(o)), ""); code != 204 {
			t.Fatalf("event %d: %d %s", i, code, body)
		}
	}
	if n := want["treatment"].decisions; n < 300 || n > 500 {
		t.Errorf("%d of %d callers in treatment, want about 20%%", n, callers)
	}

	code, body := get(t, r.admin+"/-/experiments")
	if code != 200 {
		t.Fatalf("/-/experiments: %d %s", code, body)
	}
	var rep struct {
		Experiments []struct {
			Name string `json:"experiment"`
			Arms []struct {
				Name       string                     `json:"arm"`
				Decisions  uint64                     `json:"decisions"`
				Outcomes   map[outcome.Outcome]uint64 `json:"outcomes"`
				Offers     uint64                     `json:"offers"`
				Acceptance struct{ Rate float64 }     `json:"acceptance"`
				Timeout    struct{ Rate float64 }     `json:"timeout"`
			} `json:"arms"`
		} `json:"experiments"`
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if len(rep.Experiments) != 1 || rep.Experiments[0].Name != "vip_conference" || len(rep.Experiments[0].Arms) != 2 {
		t.Fatalf("report: %s", body)
	}
	for _, got := range rep.Experiments[0].Arms {
		w := want[got.Name]
		if w == nil {
			t.Errorf("unknown arm %q", got.Name)
			continue
		}
		offers := w.outcomes[outcome.Accepted] + w.outcomes[outcome.Rejected] + w.outcomes[outcome.Timeout]
		wantAcc := float64(w.outcomes[outcome.Accepted]) / float64(offers)
		wantTimeout := float64(w.outcomes[outcome.Timeout]) / float64(offers)
		if got.Decisions != w.decisions || got.Offers != offers ||
			math.Abs(got.Acceptance.Rate-wantAcc) > 1e-6 || math.Abs(got.Timeout.Rate-wantTimeout) > 1e-6 {
			t.Errorf("arm %s: %d decisions, %d offers, acceptance %v, timeout %v; want %d, %d, %.6f, %.6f",
				got.Name, got.Decisions, got.Offers, got.Acceptance.Rate, got.Timeout.Rate, w.decisions, offers, wantAcc, wantTimeout)
		}
		for o, n := range w.outcomes {
			if got.Outcomes[o] != n {
				t.Errorf("arm %s: %d %s, want %d", got.Name, got.Outcomes[o], o, n)
			}
		}
	}

	_, metrics := get(t, r.admin+"/metrics")
	for _, line := range []string{
		fmt.Sprintf(`assignd_experiment_decisions_total{arm="treatment",experiment="vip_conference",rule="vip-treatment"} %d`, want["treatment"].decisions),
		fmt.Sprintf(`assignd_experiment_decisions_total{arm="control",experiment="vip_conference",rule="vip-control"} %d`, want["control"].decisions),
		fmt.Sprintf(`assignd_experiment_outcomes_total{arm="treatment",experiment="vip_conference",outcome="rejected"} %d`, want["treatment"].outcomes[outcome.Rejected]),
		fmt.Sprintf(`assignd_experiment_outcomes_total{arm="control",experiment="vip_conference",outcome="timeout"} %d`, want["control"].outcomes[outcome.Timeout]),
	} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("metrics lack %s", line)
		}
	}
}

// TestServeExperimentsDeclared shows a loaded policy's experiment, with
// zero counts, before any decision reaches it, and the text format.
func TestServeExperimentsDeclared(t *testing.T) {
	r := startDevPolicy(t, experimentPolicy)
	code, body := get(t, r.admin+"/-/experiments?format=text")
	if code != 200 || !strings.Contains(body, "vip_conference") || !strings.Contains(body, "treatment") {
		t.Errorf("/-/experiments?format=text: %d %s", code, body)
	}
	if code, body := get(t, r.admin+"/-/experiments?mde=2"); code != 400 {
		t.Errorf("mde=2: %d %s, want 400", code, body)
	}
}
