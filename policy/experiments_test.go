package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// experimentPolicy is the example, with the parameters the
// instructions need.
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

func experimentInput(tier, from string) *Input {
	task := map[string]any{"tier": tier}
	if from != "" {
		task["from"] = from
	}
	return &Input{
		Task:     task,
		Worker:   map[string]any{},
		Callback: map[string]any{"TaskSid": "WT" + strings.Repeat("7", 32)},
		Now:      time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC),
	}
}

// callerIn finds a synthetic caller in the wanted arm.
func callerIn(t *testing.T, p *Policy, arm string) string {
	t.Helper()
	split := p.Experiments().Set().Split(0)
	for i := range 1000 {
		from := fmt.Sprintf("+1415555%04d", i)
		if split.Arms()[split.Assign(from)].Name == arm {
			return from
		}
	}
	t.Fatalf("no caller in arm %s", arm)
	return ""
}

// TestDecideExperiment checks who is in the experiment: a gold caller in
// treatment is conferenced, a gold caller in control is decided by the
// next rule and still counts as control, and a caller whose decision never
// reached experiment.vip_conference is in no arm.
func TestDecideExperiment(t *testing.T) {
	p := mustParse(t, experimentPolicy)
	for _, tc := range []struct {
		tier, arm, rule, wantArm string
	}{
		{"gold", "treatment", "vip-conference", "treatment"},
		{"gold", "control", "vip-dequeue", "control"},
		{"silver", "treatment", "default", ""},
	} {
		d := p.Decide(experimentInput(tc.tier, callerIn(t, p, tc.arm)))
		if d.Rule != tc.rule {
			t.Errorf("%s caller in %s: rule %s, want %s", tc.tier, tc.arm, d.Rule, tc.rule)
		}
		name, arm, ok := d.Experiments.Get(0)
		switch {
		case tc.wantArm == "" && (ok || !d.Experiments.Empty()):
			t.Errorf("%s caller: in arm %s, but the decision never read the experiment", tc.tier, arm)
		case tc.wantArm != "" && (!ok || name != "vip_conference" || arm != tc.wantArm):
			t.Errorf("%s caller in %s: recorded %q %q %v", tc.tier, tc.arm, name, arm, ok)
		}
	}
}

// TestExperimentFallbackKey: a task without the key's attribute is
// bucketed by callback.TaskSid, and explain says so.
func TestExperimentFallbackKey(t *testing.T) {
	p := mustParse(t, experimentPolicy)
	in := experimentInput("gold", "")
	d := p.Decide(in)
	_, arm, ok := d.Experiments.Get(0)
	split := p.Experiments().Set().Split(0)
	want := split.Arms()[split.Assign(in.Callback["TaskSid"].(string))].Name
	if !ok || arm != want || !d.Experiments.Fallback(0) {
		t.Errorf("arm %q (in %v, fallback %v), want %q from the TaskSid", arm, ok, d.Experiments.Fallback(0), want)
	}
	ex := p.Explain(in)
	if len(ex.Experiments) != 1 || ex.Experiments[0].KeyFrom != "callback.TaskSid" || ex.Experiments[0].Key != "…7777" {
		t.Errorf("explain: %+v", ex.Experiments)
	}
}

// TestExplainExperimentMasksKey: explain names the key template and shows
// only the phone number's last four digits.
func TestExplainExperimentMasksKey(t *testing.T) {
	p := mustParse(t, experimentPolicy)
	from := callerIn(t, p, "treatment")
	ex := p.Explain(experimentInput("gold", from))
	want := ExperimentArm{Experiment: "vip_conference", Arm: "treatment", KeyFrom: "{{task.from}}",
		Key: "…" + from[len(from)-4:], Point: p.Experiments().Set().Split(0).Point(from)}
	if len(ex.Experiments) != 1 || ex.Experiments[0] != want {
		t.Errorf("explain experiments = %+v, want %+v", ex.Experiments, want)
	}
	if ex.Experiments[0].Point < 8000 {
		t.Errorf("treatment's point %d is not in [8000, 10000)", ex.Experiments[0].Point)
	}
}

// TestDecideExperimentAllocs: evaluating experiment.NAME, rendering and
// hashing the key included, costs no allocation.
func TestDecideExperimentAllocs(t *testing.T) {
	p := mustParse(t, strings.Replace(experimentPolicy, `"{{task.from}}"`, `"{{task.from}}:{{worker.team}}:{{task.n}}"`, 1))
	for _, in := range []*Input{experimentInput("gold", "+14155550100"), experimentInput("gold", "")} {
		in.Worker["team"] = "blue"
		in.Task["n"] = 42.5
		if n := testing.AllocsPerRun(200, func() { p.Decide(in) }); n != 0 {
			t.Errorf("Decide with an experiment allocates %.0f times, want 0", n)
		}
	}
}

// TestExperimentReads: the key's attributes and the fallback key are read.
func TestExperimentReads(t *testing.T) {
	rd := mustParse(t, experimentPolicy).Reads()
	if rd.All || !slices.Contains(rd.Task, "from") || !slices.Contains(rd.Callback, "TaskSid") {
		t.Errorf("Reads = %+v", rd)
	}
}

func TestUnusedExperimentWarns(t *testing.T) {
	p := mustParse(t, `
version: 1
experiments:
  idle:
    key: "{{task.from}}"
    arms: {control: 50, treatment: 50}
rules:
  - name: default
    instruction: accept
`)
	if w := p.Warnings(); len(w) != 1 || !strings.Contains(w[0].String(), "no rule's when reads experiment.idle") {
		t.Errorf("warnings = %v", w)
	}
}

func TestMaskKey(t *testing.T) {
	for in, want := range map[string]string{"": "…", "1234": "…", "+14155550100": "…0100", "łódź-ąę": "…ź-ąę"} {
		if got := MaskKey(in); got != want {
			t.Errorf("MaskKey(%q) = %q, want %q", in, got, want)
		}
	}
}
