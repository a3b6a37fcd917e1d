// Package explain builds the report of one explained decision that both
// "assignd explain -format json" and the admin console's POST /-/explain
// print, so that the two can never disagree.
package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"

	"github.com/assignd/assignd/internal/jsonout"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/reservation/twilio"
)

// Report is one explained decision, secrets redacted: every rule's part,
// the winner, and the reply or the REST form it would send.
type Report struct {
	Policy      string          `json:"policy"`
	Hash        string          `json:"hash"`
	Steps       []policy.Step   `json:"steps"`
	Rule        string          `json:"rule"`
	Index       int             `json:"index"` // 1-based
	Mode        policy.Mode     `json:"mode"`
	Instruction string          `json:"instruction"`
	Params      map[string]any  `json:"params"`
	Reply       json.RawMessage `json:"reply"`
	RESTForm    url.Values      `json:"rest_form,omitempty"`
	Skipped     []policy.Skip   `json:"skipped,omitempty"`
	// Calendars are the calendars the rules up to the deciding one read,
	// with their states at the explained instant.
	Calendars []policy.CalendarStatus `json:"calendars,omitempty"`
	// Experiments are the experiments the decision evaluated: the arm and
	// the key it came from, masked.
	Experiments []policy.ExperimentArm `json:"experiments,omitempty"`
}

// New builds the report of ex, decided by p. In update mode the REST form
// is built from the redacted instruction with twilio.RESTForm, so that
// a secret is masked in it exactly as in the parameters.
func New(p *policy.Policy, ex policy.Explanation) (*Report, error) {
	d := ex.Decision
	redacted := d.Instruction.Redacted()
	r := &Report{Policy: p.File(), Hash: p.Hash(), Steps: ex.Steps, Rule: d.Rule, Index: d.RuleIndex + 1,
		Mode: d.Mode, Instruction: d.Instruction.Name, Params: redacted.ParamMap(), Reply: d.JSON, Skipped: d.Skipped, Calendars: ex.Calendars, Experiments: ex.Experiments}
	if r.Reply == nil {
		r.Reply = json.RawMessage("null")
	}
	if d.Mode == policy.Update {
		var err error
		if r.RESTForm, err = twilio.RESTForm(redacted); err != nil {
			return nil, fmt.Errorf("explaining rule %q: %w", d.Rule, err)
		}
	}
	return r, nil
}

// JSON is the report as explain -format json prints it: indented, HTML
// characters unescaped, with a final newline.
func (r *Report) JSON() []byte {
	return jsonout.Indented(r)
}

// JSON returns the report of ex as JSON; see New and Report.JSON.
func JSON(p *policy.Policy, ex policy.Explanation) ([]byte, error) {
	r, err := New(p, ex)
	if err != nil {
		return nil, err
	}
	return r.JSON(), nil
}

// WriteExperiments prints, for explain's text, one line per experiment the
// decision evaluated: its arm, the key template it came from (or the
// fallback callback.TaskSid), the masked key and its point.
func WriteExperiments(w io.Writer, arms []policy.ExperimentArm) {
	for _, a := range arms {
		fmt.Fprintf(w, "experiment %s: arm %s (key %s = %s, point %d of 10000)\n", a.Experiment, a.Arm, a.KeyFrom, a.Key, a.Point)
	}
}
