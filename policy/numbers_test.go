package policy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestTemplateWholeNumbers holds that an integer parameter rendered from a
// template takes any JSON number that is whole and in range, whichever way
// the sender wrote it, and that a number inserted into text is plain
// decimal.
func TestTemplateWholeNumbers(t *testing.T) {
	p := mustParse(t, `
version: 1
rules:
  - name: ring
    when: task.ring != 0
    instruction: dequeue
    params: {to: "client:{{task.ring}}", timeout: "{{task.ring}}"}
  - name: default
    instruction: accept
`)
	for ring, text := range map[string]string{"15": "15", "15.0": "15.0", "1.5e1": "15", "150e-1": "15"} {
		in := &Input{Task: map[string]any{"ring": json.Number(ring)}, Now: time.Unix(0, 0)}
		d := p.Decide(in)
		if d.Rule != "ring" {
			t.Errorf("ring %s: decided %s, skipped %+v", ring, d.Rule, d.Skipped)
			continue
		}
		if v, _ := d.Instruction.Get("timeout"); v != 15 {
			t.Errorf("ring %s: timeout %v", ring, v)
		}
		if v, _ := d.Instruction.Get("to"); v != "client:"+text {
			t.Errorf("ring %s: to %v", ring, v)
		}
	}
	for _, ring := range []string{"1.5", "1e3"} {
		d := p.Decide(&Input{Task: map[string]any{"ring": json.Number(ring)}, Now: time.Unix(0, 0)})
		if d.Rule != "default" || len(d.Skipped) != 1 || !strings.Contains(d.Skipped[0].Detail, "params.timeout") {
			t.Errorf("ring %s: decided %s, skipped %+v; want the rule skipped", ring, d.Rule, d.Skipped)
		}
	}
}
