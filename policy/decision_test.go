package policy

import (
	"reflect"
	"testing"
)

func TestInstructionRedacted(t *testing.T) {
	tests := []struct {
		name string
		in   Instruction
		want map[string]any
	}{
		{"conference password masked, username kept",
			Instruction{Name: Conference, Params: []Param{
				{Name: "to", Value: "+14155550100"},
				{Name: "sip_auth_username", Value: "agent"},
				{Name: "sip_auth_password", Value: "hunter2"},
				{Name: "record", Value: true},
			}},
			map[string]any{"to": "+14155550100", "sip_auth_username": "agent", "sip_auth_password": RedactedValue, "record": true}},
		{"no secrets",
			Instruction{Name: Dequeue, Params: []Param{{Name: "timeout", Value: 30}}},
			map[string]any{"timeout": 30}},
		{"no params", Instruction{Name: Accept}, map[string]any{}},
		{"a name that is secret elsewhere is not secret here",
			Instruction{Name: Call, Params: []Param{{Name: "sip_auth_password", Value: "x"}}},
			map[string]any{"sip_auth_password": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := tt.in.ParamMap()
			got := tt.in.Redacted()
			if got.Name != tt.in.Name {
				t.Errorf("Name = %q, want %q", got.Name, tt.in.Name)
			}
			if m := got.ParamMap(); !reflect.DeepEqual(m, tt.want) {
				t.Errorf("Redacted().ParamMap() = %v, want %v", m, tt.want)
			}
			if m := tt.in.ParamMap(); !reflect.DeepEqual(m, orig) {
				t.Errorf("Redacted modified its receiver: %v, was %v", m, orig)
			}
			for i, p := range got.Params {
				if p.Name != tt.in.Params[i].Name {
					t.Errorf("param %d is %q, want %q: Redacted must keep the order", i, p.Name, tt.in.Params[i].Name)
				}
			}
		})
	}
}

// TestSecretParamsAreStrings keeps the mask, a string, valid for every
// secret parameter, so that explain can build the REST form from a
// redacted instruction.
func TestSecretParamsAreStrings(t *testing.T) {
	n := 0
	for name, spec := range instructions {
		for _, ps := range spec.params {
			if !ps.secret {
				continue
			}
			n++
			if ps.kind != kString {
				t.Errorf("%s.%s is secret but not a free-text string", name, ps.name)
			}
			if !IsSecretParam(name, ps.name) {
				t.Errorf("IsSecretParam(%q, %q) = false", name, ps.name)
			}
		}
	}
	if n == 0 {
		t.Error("no secret parameters: sip_auth_password should be one")
	}
}
