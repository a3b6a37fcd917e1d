package policy

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestParseWorkerWhen holds worker_when: a target expression, and-ed with
// when, whose warnings name its field, which counts as a condition for the
// catch-all and for duplicate conditions, and whose keys Reads lists.
func TestParseWorkerWhen(t *testing.T) {
	p := mustParse(t, `
version: 1
rules:
  - name: both
    when: tier == "gold"
    worker_when: skills HAS "vip" AND activity_name == "Idle"
    instruction: accept
  - name: target-only
    worker_when: languages HAS task.language
    instruction: accept
  - name: same-as-target
    when: worker.languages HAS task.language
    instruction: accept
  - name: by-sid
    worker_when: worker.sid == "WK0123456789abcdef0123456789abcdef"
    instruction: accept
  - name: default
    instruction: reject
    params: {activity_sid: WA00000000000000000000000000000001}
`)
	var got []string
	for _, w := range p.Warnings() {
		got = append(got, w.String())
	}
	want := []string{
		`rule "both" (#1): worker_when: worker.activity_name is a worker field that the assignment callback does not carry`,
		`rule "same-as-target" (#3): when: never matches: rule "target-only" (#2) has the same condition`,
	}
	if len(got) != len(want) {
		t.Fatalf("warnings %q, want %d", got, len(want))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("warning %d = %q, want it to contain %q", i, got[i], want[i])
		}
	}
	rd := p.Reads()
	if want := (Reads{Task: []string{"language", "tier"}, Worker: []string{"activity_name", "languages", "skills"}, Callback: []string{"WorkerSid"}}); !reflect.DeepEqual(rd, want) {
		t.Errorf("Reads = %+v, want %+v", rd, want)
	}
	decide := func(task, worker map[string]any) string {
		return p.Decide(&Input{Task: task, Worker: worker, Now: time.Unix(0, 0),
			Callback: map[string]any{"WorkerSid": "WK0123456789abcdef0123456789abcdef"}}).Rule
	}
	if r := decide(map[string]any{"tier": "gold"}, map[string]any{"skills": []any{"vip"}, "activity_name": "Idle"}); r != "both" {
		t.Errorf("when and worker_when both true: %s", r)
	}
	if r := decide(map[string]any{"tier": "gold", "skills": []any{"vip"}, "activity_name": "Idle"}, map[string]any{}); r != "by-sid" {
		t.Errorf("bare keys of worker_when read the task: %s", r)
	}
	if r := decide(map[string]any{"tier": "silver", "language": "fr"}, map[string]any{"skills": []any{"vip"}, "activity_name": "Idle", "languages": []any{"fr"}}); r != "target-only" {
		t.Errorf("when false, worker_when true: %s", r)
	}
	// The console shows Condition: a rule with only worker_when is not
	// shown as the catch-all.
	if v := p.RuleViews()[1]; v.WorkerCondition != "languages HAS task.language" || v.Condition != "worker_when: languages HAS task.language" {
		t.Errorf("RuleView = %+v", v)
	}
	if v := p.RuleViews()[0]; v.Condition != `tier == "gold" worker_when: skills HAS "vip" AND activity_name == "Idle"` {
		t.Errorf("RuleView = %+v", v)
	}
}

// TestWorkerWhenCatchAll holds that a rule with worker_when is not the
// catch-all, and that only one with neither condition is.
func TestWorkerWhenCatchAll(t *testing.T) {
	_, err := Parse("p.yaml", []byte(`
version: 1
rules:
  - name: default
    worker_when: skills HAS "x"
    instruction: accept
`))
	if err == nil || !strings.Contains(err.Error(), "the last rule must be the catch-all, with neither when nor worker_when") {
		t.Errorf("a last rule with worker_when loaded as the catch-all: %v", err)
	}
	_, err = Parse("p.yaml", []byte(`
version: 1
rules:
  - name: bad
    worker_when: skills HAS
    instruction: accept
  - name: default
    instruction: accept
`))
	if err == nil || !strings.Contains(err.Error(), `rule "bad" (#1): worker_when:`) {
		t.Errorf("a worker_when syntax error is not reported against its field: %v", err)
	}
}

// TestDecideWorkerWhenAllocs holds the hot path with worker_when: rules
// with target conditions, worker.sid among them, decide without
// allocating.
func TestDecideWorkerWhenAllocs(t *testing.T) {
	p := mustParse(t, `
version: 1
rules:
  - name: a
    worker_when: skills HAS "nope" AND sid == "WK1"
    instruction: accept
  - name: b
    when: task.language == "es"
    worker_when: skills HAS "vip" AND languages HAS task.language
    instruction: accept
  - name: default
    instruction: accept
`)
	in := benchInput()
	allocs := testing.AllocsPerRun(200, func() { p.Decide(in) })
	if allocs != 0 {
		t.Errorf("Decide with worker_when allocates %.0f times, want 0", allocs)
	}
}
