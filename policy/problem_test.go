package policy

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestProblems(t *testing.T) {
	le := &LoadError{Problems: []Problem{{File: "p.yaml", Line: 3, Msg: "bad"}, {File: "p.yaml", Line: 9, Msg: "worse"}}}
	for _, tc := range []struct {
		name string
		err  error
		want []string
	}{
		{"none", nil, nil},
		{"load error", le, []string{le.Problems[0].String(), le.Problems[1].String()}},
		{"wrapped", fmt.Errorf("loading ASSIGND_POLICY_FILE: %w", le), []string{le.Problems[0].String(), le.Problems[1].String()}},
		{"other", errors.New("open p.yaml: no such file"), []string{"open p.yaml: no such file"}},
	} {
		if got := Problems(tc.err); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Problems = %q, want %q", tc.name, got, tc.want)
		}
	}
}
