package policy

import (
	"testing"
	"time"
)

func TestExamplePolicyLoads(t *testing.T) {
	p, err := Parse(ExampleName, Example())
	if err != nil {
		t.Fatalf("embedded example policy does not parse:\n%v", err)
	}
	for _, w := range p.Warnings() {
		t.Logf("warning: %s", w)
	}
	// Every instruction appears in the example, so it teaches them all.
	seen := map[string]bool{}
	for _, r := range p.rules {
		seen[r.instruction] = true
	}
	for _, name := range InstructionNames() {
		if !seen[name] {
			t.Errorf("example policy has no %s rule", name)
		}
	}
	d := p.Decide(&Input{Task: map[string]any{}, Worker: map[string]any{}, Callback: map[string]any{}, Now: time.Date(2026, 1, 5, 15, 0, 0, 0, time.UTC)})
	if d.Rule != "default" || string(d.JSON) == "" {
		t.Errorf("empty callback: got rule %q reply %s, want the default dequeue", d.Rule, d.JSON)
	}
	t.Logf("%s", d.JSON)
}
