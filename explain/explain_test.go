package explain

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/assignd/assignd/policy"
)

const testPolicy = `version: 1
rules:
  - name: sip
    when: task.type == "sip"
    instruction: conference
    params: {from: "+15005550006", to: "sip:alice@example.com", sip_auth_username: agent, sip_auth_password: hunter2}
  - name: callback
    when: task.type == "callback"
    instruction: call
    params: {from: "+15005550006", url: "https://ops.example.com/twiml?a=1&b=2"}
  - name: default
    instruction: accept
`

// TestReport pins what explain -format json and POST /-/explain print for
// a respond-mode and an update-mode decision: the 1-based index, the reply
// or the REST form (never both), HTML characters as written, and the SIP
// password masked everywhere.
func TestReport(t *testing.T) {
	p, err := policy.Parse("p.yaml", []byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, taskType, rule string
		index                int
		mode                 policy.Mode
		wantForm             bool
		contains             string
	}{
		{"respond", "callback", "callback", 2, policy.Respond, false, `"url": "https://ops.example.com/twiml?a=1&b=2"`},
		{"update", "sip", "sip", 1, policy.Update, true, `"SipAuthPassword": [`},
		{"catch-all", "other", "default", 3, policy.Respond, false, `"reply": {`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := p.Explain(&policy.Input{Task: map[string]any{"type": tc.taskType}, Now: time.Now()})
			out, err := JSON(p, ex)
			if err != nil {
				t.Fatal(err)
			}
			var r Report
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			if r.Rule != tc.rule || r.Index != tc.index || r.Mode != tc.mode || r.Hash != p.Hash() || len(r.Steps) != 3 {
				t.Errorf("report %+v, want rule %q #%d in %s mode", r, tc.rule, tc.index, tc.mode)
			}
			if (r.RESTForm != nil) != tc.wantForm || (string(r.Reply) == "null") != tc.wantForm {
				t.Errorf("REST form %v and reply %s: want exactly one, the form in update mode", r.RESTForm, r.Reply)
			}
			if strings.Contains(string(out), "hunter2") {
				t.Errorf("the SIP password is in the report:\n%s", out)
			}
			if !strings.Contains(string(out), tc.contains) {
				t.Errorf("report lacks %s:\n%s", tc.contains, out)
			}
			if tc.wantForm && r.RESTForm.Get("SipAuthPassword") != policy.RedactedValue {
				t.Errorf("SipAuthPassword in the REST form = %q, want %q", r.RESTForm.Get("SipAuthPassword"), policy.RedactedValue)
			}
		})
	}
}

// TestReportExperiments: the report and its text name the arm and the key
// template, and show the caller's number masked.
func TestReportExperiments(t *testing.T) {
	p, err := policy.Parse("p.yaml", []byte(`version: 1
experiments:
  vip_conference:
    key: "{{task.from}}"
    arms: {control: 80, treatment: 20}
rules:
  - name: vip
    when: experiment.vip_conference == "treatment"
    instruction: accept
  - name: default
    instruction: accept
`))
	if err != nil {
		t.Fatal(err)
	}
	ex := p.Explain(&policy.Input{Task: map[string]any{"from": "+14155550100"}, Callback: map[string]any{}, Now: time.Unix(0, 0)})
	r, err := New(p, ex)
	if err != nil {
		t.Fatal(err)
	}
	js := string(r.JSON())
	if strings.Contains(js, "+14155550100") || !strings.Contains(js, `"key": "…0100"`) || !strings.Contains(js, `"arm": "treatment"`) {
		t.Errorf("report:\n%s", js)
	}
	var b strings.Builder
	WriteExperiments(&b, r.Experiments)
	if want := "experiment vip_conference: arm treatment (key {{task.from}} = …0100, point 9801 of 10000)\n"; b.String() != want {
		t.Errorf("text %q, want %q", b.String(), want)
	}
}
