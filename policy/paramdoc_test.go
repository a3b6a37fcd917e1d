package policy

import (
	"reflect"
	"testing"
)

// TestParameters: the reference lists every parameter of the table once,
// each example passes its own check unchanged, and the words and flags come
// from the table.
func TestParameters(t *testing.T) {
	docs := Parameters()
	n := 0
	for _, name := range InstructionNames() {
		n += len(instructions[name].params)
	}
	if len(docs) != n {
		t.Fatalf("Parameters() lists %d parameters, the table holds %d", len(docs), n)
	}
	seen := map[string]bool{}
	for _, d := range docs {
		key := d.Instruction + "." + d.Name
		if seen[key] {
			t.Errorf("%s listed twice", key)
		}
		seen[key] = true
		spec := instructions[d.Instruction].lookup(d.Name)
		if spec == nil {
			t.Fatalf("%s is not in the table", key)
		}
		got, err := spec.check(d.Example)
		if err != nil {
			t.Errorf("%s: example %#v fails its own check: %v", key, d.Example, err)
		} else if !reflect.DeepEqual(got, d.Example) {
			t.Errorf("%s: example %#v checks as %#v; want it unchanged", key, d.Example, got)
		}
		if d.Type == "" || (d.Type != "string" && d.Check == "") {
			t.Errorf("%s: type %q, check %q", key, d.Type, d.Check)
		}
	}
	for _, tt := range []struct {
		key                      string
		required, secret, update bool
	}{
		{"call.from", true, false, false},
		{"redirect.call_sid", true, false, false},
		{"conference.sip_auth_password", false, true, true},
		{"conference.to", false, false, false},
		{"dequeue.to", false, false, false},
	} {
		for _, d := range docs {
			if d.Instruction+"."+d.Name != tt.key {
				continue
			}
			if d.Required != tt.required || d.Secret != tt.secret || (d.CallbackKey == "") != tt.update {
				t.Errorf("%s: required %v secret %v update-only %v, want %v %v %v", tt.key, d.Required, d.Secret, d.CallbackKey == "", tt.required, tt.secret, tt.update)
			}
		}
	}
}
