package policy

import (
	"slices"
	"testing"
)

func TestDecisionLogRules(t *testing.T) {
	tests := []struct {
		name, src string
		want      LogRules
	}{
		{"none", `
version: 1
rules:
  - name: default
    instruction: accept
`, LogRules{}},
		{"declared", `
version: 1
decision_log:
  mask: [task.from, worker.contact_uri]
  drop: [callback.Notes]
rules:
  - name: default
    instruction: accept
`, LogRules{Declared: true, Mask: []string{"task.from", "worker.contact_uri"}, Drop: []string{"callback.Notes"}}},
		{"empty section still declared", `
version: 1
decision_log: {}
rules:
  - name: default
    instruction: accept
`, LogRules{Declared: true}},
		{"secret templates", `
version: 1
rules:
  - name: sip
    when: worker.sip == true
    instruction: conference
    params: {from: "+15005550006", sip_auth_username: "{{worker.sip_user}}", sip_auth_password: "{{worker.sip_pass}}"}
  - name: default
    instruction: accept
`, LogRules{Secret: []string{"worker.sip_pass"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			got := p.DecisionLog()
			if got.Declared != tc.want.Declared || !slices.Equal(got.Mask, tc.want.Mask) ||
				!slices.Equal(got.Drop, tc.want.Drop) || !slices.Equal(got.Secret, tc.want.Secret) {
				t.Errorf("DecisionLog() = %+v, want %+v", got, tc.want)
			}
		})
	}
}
