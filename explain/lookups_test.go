package explain

import (
	"testing"

	"github.com/assignd/assignd/policy/expr"
)

func TestLookupText(t *testing.T) {
	for _, tc := range []struct {
		l    expr.Lookup
		want string
	}{
		{expr.Lookup{Table: "vip", Ref: "tables.vip[task.from].desk", Hit: true, Value: "client:a"}, `lookup tables.vip[task.from].desk: hit "client:a"`},
		{expr.Lookup{Table: "accounts", Ref: "tables.accounts[task.account].seats", Hit: true, Value: 250.0}, "lookup tables.accounts[task.account].seats: hit 250"},
		{expr.Lookup{Table: "blocked", Ref: "tables.blocked[task.from].reason", Hit: true}, "lookup tables.blocked[task.from].reason: hit"},
		{expr.Lookup{Table: "blocked", Ref: "task.from IN tables.blocked"}, "lookup task.from IN tables.blocked: miss"},
	} {
		if got := LookupText(tc.l); got != tc.want {
			t.Errorf("LookupText(%+v) = %q, want %q", tc.l, got, tc.want)
		}
	}
}
