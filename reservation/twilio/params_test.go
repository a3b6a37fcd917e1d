package twilio

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"testing"

	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/reservation"
)

// TestParamTable keeps three parameter lists equal, in both directions: the
// parameters policy accepts for each instruction (policy/params.go), the
// REST setters of paramTable, and the form parameters of reservation.Update
// WorkerReservation in Twilio's OpenAPI spec. A parameter that policy
// accepts without a setter passes validate and ends every update that uses
// it rejected; a setter without a policy parameter is dead code that hides
// such a gap. REST names come from twilio-go's own encoding, not from a
// third hand-written list.
func TestParamTable(t *testing.T) {
	op, err := specOnce()
	if err != nil {
		t.Fatalf("loading %s: %v", specFile, err)
	}
	// setBy maps each REST name to what sets it: an instruction itself
	// (ReservationStatus, Instruction) or one instruction's parameter.
	setBy := map[string]string{}
	for _, in := range policy.InstructionNames() {
		table, ok := paramTable[in]
		if !ok {
			t.Errorf("policy instruction %s has no REST parameter table", in)
			continue
		}
		base, err := RESTForm(policy.Instruction{Name: in})
		if err != nil {
			t.Errorf("%s without parameters: %v", in, err)
			continue
		}
		for rest := range base {
			setBy[rest] = "the instruction name"
		}
		names := policy.ParamNames(in)
		for _, name := range names {
			if _, ok := table[name]; !ok {
				t.Errorf("%s parameter %s: policy accepts it, but reservation has no REST setter for it", in, name)
				continue
			}
			rest, err := formNamesOf(in, name, base)
			if err != nil {
				t.Errorf("%s parameter %s: %v", in, name, err)
				continue
			}
			if len(rest) != 1 {
				t.Errorf("%s parameter %s sets REST parameters %v, want exactly one", in, name, rest)
				continue
			}
			by := in + " parameter " + name
			if other, dup := setBy[rest[0]]; dup {
				t.Errorf("REST parameter %s is set by both %s and %s", rest[0], other, by)
				continue
			}
			setBy[rest[0]] = by
		}
		for name := range table {
			if !slices.Contains(names, name) {
				t.Errorf("%s REST setter %s has no policy parameter", in, name)
			}
		}
	}
	for in := range paramTable {
		if !slices.Contains(policy.InstructionNames(), in) {
			t.Errorf("REST parameter table has instruction %s, which policy does not know", in)
		}
	}

	for rest := range op.form {
		if _, ok := setBy[rest]; !ok {
			t.Errorf("spec parameter %s of POST %s is set by no policy parameter", rest, specReservationOp)
		}
	}
	for rest, by := range setBy {
		if _, ok := op.form[rest]; !ok {
			t.Errorf("REST parameter %s, set by %s, is not in the spec of POST %s", rest, by, specReservationOp)
		}
	}
}

// formNamesOf encodes the instruction with only the named parameter, set to
// a sample of the Go type its setter takes, and returns the form names it
// adds to the instruction's own (base).
func formNamesOf(in, name string, base url.Values) ([]string, error) {
	for _, v := range []any{"x", true, 1, []string{"x"}} {
		form, err := RESTForm(policy.Instruction{Name: in, Params: []policy.Param{{Name: name, Value: v}}})
		if errors.Is(err, reservation.ErrInvalid) {
			continue // the setter takes another type
		}
		if err != nil {
			return nil, err
		}
		var out []string
		for k := range form {
			if _, ok := base[k]; !ok {
				out = append(out, k)
			}
		}
		sort.Strings(out)
		return out, nil
	}
	return nil, fmt.Errorf("its setter takes none of string, bool, int, []string")
}
