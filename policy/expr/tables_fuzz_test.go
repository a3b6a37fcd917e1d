package expr

import (
	"errors"
	"testing"
)

// FuzzTableExpr compiles arbitrary input in a scope with tables. Whatever
// compiles must evaluate, explain and list its lookups without panicking,
// agree with its explanation, and have a canonical form that compiles to
// itself and means the same thing.
func FuzzTableExpr(f *testing.F) {
	for _, s := range []string{
		`task.from IN tables.blocked`,
		`task.from NOT IN tables.vip OR tables.vip[task.from].tier == "gold"`,
		`tables.vip[ task.account ].seats >= 7 AND tables.vip["42"].desk == ""`,
		`tables.vip[42].tier != tables.blocked[task.from].reason`,
		`tables.vip[task.from].nope == 1`,
		`tables.vip == 1`,
		`tables.vip[`,
		`tables.`,
	} {
		f.Add(s)
	}
	sc := testScope(f)
	env := tableEnv(f, "+15551230000")
	f.Fuzz(func(t *testing.T, src string) {
		e, err := sc.Compile(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) error is %T, not *SyntaxError", src, err)
			}
			_ = se.Caret()
			return
		}
		got := e.Eval(env)
		if why := e.Why(env); (why == "") != got {
			t.Fatalf("%q: Eval = %v but Why = %q", src, got, why)
		}
		_ = e.Lookups(env)
		_ = e.Lookups(nil)
		_ = e.Eval(nil)
		_ = e.Why(nil)
		canon := e.Canonical()
		e2, err := sc.Compile(canon)
		if err != nil {
			t.Fatalf("canonical %q of %q does not compile: %v", canon, src, err)
		}
		if e2.Canonical() != canon || e2.Eval(env) != got {
			t.Fatalf("%q and its canonical %q disagree", src, canon)
		}
	})
}
