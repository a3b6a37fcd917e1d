package policytest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/policy/calendar"
)

// Result is the outcome of one case.
type Result struct {
	Case *Case
	// Explanation is the decision and every rule's part in it.
	Explanation policy.Explanation
	// Failures says, one item each, how the decision differs from the
	// expectation; it is empty when the case passed.
	Failures []string
}

// Passed reports whether the decision met every expectation.
func (r *Result) Passed() bool { return len(r.Failures) == 0 }

// Run decides every case of f whose name match accepts (every case, if
// match is nil) with Policy.Explain and compares the decision with the
// case's expectations. now is the clock of cases that set none.
func Run(f *File, match func(name string) bool, now time.Time) []Result {
	var out []Result
	for i := range f.Cases {
		c := &f.Cases[i]
		if match != nil && !match(c.Name) {
			continue
		}
		at := c.Now
		if at.IsZero() {
			at = now
		}
		r := Result{Case: c}
		in, err := Input(c.Form, at)
		if err != nil {
			// LoadFile refuses such cases; kept for a File built by hand.
			r.Failures = append(r.Failures, err.Error())
			out = append(out, r)
			continue
		}
		if f.Overrides != nil {
			ov, problems := calendar.ParseOverrides(f.OverridesFile, f.Overrides, at)
			for _, p := range problems {
				r.Failures = append(r.Failures, fmt.Sprintf("%s:%d: %s: %s", f.OverridesFile, p.Line, p.Field, p.Msg))
			}
			in.Overrides = ov
		}
		r.Explanation = f.Policy.Explain(in)
		r.Failures = compare(&c.Expect, &r.Explanation.Decision)
		out = append(out, r)
	}
	return out
}

func compare(e *Expect, d *policy.Decision) []string {
	var out []string
	if e.Rule != "" && e.Rule != d.Rule {
		out = append(out, fmt.Sprintf("rule: expected %q, got %q", e.Rule, d.Rule))
	}
	if e.Instruction != "" && e.Instruction != d.Instruction.Name {
		out = append(out, fmt.Sprintf("instruction: expected %s, got %s", e.Instruction, d.Instruction.Name))
	}
	if e.Mode != "" && e.Mode != d.Mode {
		out = append(out, fmt.Sprintf("mode: expected %s, got %s", e.Mode, d.Mode))
	}
	for _, p := range e.Params {
		if msg := compareParam(p, d.Instruction); msg != "" {
			out = append(out, "params."+p.Name+": "+msg)
		}
	}
	if e.Reply != nil {
		if msg := compareReply(e.Reply, d.JSON); msg != "" {
			out = append(out, "reply: "+msg)
		}
	}
	if e.HasSkipped {
		want, got := make([]string, len(e.Skipped)), make([]string, len(d.Skipped))
		for i, s := range e.Skipped {
			want[i] = fmt.Sprintf("%s (%s)", s.Rule, s.Reason)
		}
		for i, s := range d.Skipped {
			got[i] = fmt.Sprintf("%s (%s)", s.Rule, s.Reason)
		}
		if !reflect.DeepEqual(want, got) {
			out = append(out, fmt.Sprintf("skipped: expected [%s], got [%s]", strings.Join(want, ", "), strings.Join(got, ", ")))
		}
	}
	return out
}

// compareParam compares one expected parameter with the decided one, the
// expected value typed by the parameter's own check; secrets are compared
// but never shown.
func compareParam(p ExpectParam, ins policy.Instruction) string {
	show := func(v any) string {
		if policy.IsSecretParam(ins.Name, p.Name) {
			return policy.RedactedValue
		}
		js, _ := json.Marshal(v)
		return string(js)
	}
	want, err := policy.CheckParam(ins.Name, p.Name, p.Value)
	if err != nil {
		return fmt.Sprintf("expected %s, but the decided %s: %v", show(p.Value), ins.Name, err)
	}
	got, ok := ins.Get(p.Name)
	switch {
	case !ok:
		return fmt.Sprintf("expected %s, got none: the rule does not set it", show(want))
	case !reflect.DeepEqual(want, got) && policy.IsSecretParam(ins.Name, p.Name):
		return "differs from the expected value; a secret, so neither is shown"
	case !reflect.DeepEqual(want, got):
		return fmt.Sprintf("expected %s, got %s", show(want), show(got))
	}
	return ""
}

// compareReply compares the whole reply, ignoring only the order of keys
// and white space.
func compareReply(want json.RawMessage, got []byte) string {
	if got == nil {
		return fmt.Sprintf("expected %s, got none: update mode replies with an empty body", want)
	}
	var w, g any
	_ = json.Unmarshal(want, &w) // LoadFile checked it
	if err := json.Unmarshal(got, &g); err != nil || !reflect.DeepEqual(w, g) {
		compact, _ := json.Marshal(w)
		return fmt.Sprintf("expected %s, got %s", compact, got)
	}
	return ""
}
