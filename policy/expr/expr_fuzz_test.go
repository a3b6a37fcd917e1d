package expr

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzExpr compiles arbitrary input. Whatever compiles must evaluate and
// explain without panicking, agree with its explanation, and have a
// canonical form that compiles to itself and means the same thing.
func FuzzExpr(f *testing.F) {
	for _, s := range []string{
		`1 == 1`,
		`task.language IN ["en", 'es'] AND worker.skills HAS "support"`,
		`(task.a == 1 OR task.b != "x") && task.c.d[0].e >= -3.5`,
		`task.a = 'it\'s' || now.hour < 9 and now.weekday not in ["Sat","Sun"] and taskrouter.currentTime > 0800 and customer_value == "Gold"`,
		`task.x CONTAINS "y" OR callback.TaskAge > 30`,
		`((((task.a == 1))))`,
		`task.in == task.and`,
		`task.a[007] == true`,
		`["a"] HAS task.x`,
		`task.x ==`,
		`"unterminated`,
		`task.first-name == 1`,
		`calendar.support.open == true AND calendar.support.minutes_to_close < 10`,
		`calendar.support.stat == "x"`,
		`experiment.vip IN ["control", "treatment"] AND task.tier == "gold"`,
		`experiment.vip.x == "a"`,
	} {
		f.Add(s)
	}
	env := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Compile(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) error is %T, not *SyntaxError", src, err)
			}
			if se.Col < 1 || se.Col > utf8.RuneCountInString(src)+1 {
				t.Fatalf("Compile(%q): column %d out of range", src, se.Col)
			}
			if strings.Contains(se.Error(), "\n") {
				t.Fatalf("Compile(%q): multi-line error %q", src, se.Error())
			}
			_ = se.Caret()
			return
		}
		got := e.Eval(env)
		why := e.Why(env)
		if (why == "") != got {
			t.Fatalf("%q: Eval = %v but Why = %q", src, got, why)
		}
		_ = e.Warnings()
		_ = e.Eval(nil)
		_ = e.Why(nil)
		canon := e.Canonical()
		e2, err := Compile(canon)
		if err != nil {
			t.Fatalf("canonical %q of %q does not compile: %v", canon, src, err)
		}
		if e2.Canonical() != canon {
			t.Fatalf("canonical of %q is %q, whose canonical is %q", src, canon, e2.Canonical())
		}
		if e2.Eval(env) != got {
			t.Fatalf("%q and its canonical %q disagree", src, canon)
		}
	})
}

// FuzzTemplate compiles arbitrary templates; whatever compiles must render
// without panicking, and a rendered value is either typed or an error.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		`{{task.language}}`,
		`https://example.com/{{task.a}}?q={{ worker.contact_uri }}&n={{now.hour}}`,
		`{{task.x`,
		`{{}}`,
		`{{task.a[0].b}}{{callback.TaskSid}}`,
		`plain text`,
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	env := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, src string, isURL bool) {
		tmpl, err := CompileTemplate(src, isURL)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "placeholder ") {
				t.Fatalf("CompileTemplate(%q) error %q does not name the placeholder", src, err)
			}
			return
		}
		if tmpl.Source() != src {
			t.Fatalf("Source() = %q, want %q", tmpl.Source(), src)
		}
		v, err := tmpl.Render(env)
		if err == nil && v == nil {
			t.Fatalf("Render(%q) = nil without an error", src)
		}
		if tmpl.IsLiteral() && (err != nil || v != src) {
			t.Fatalf("literal %q rendered as %#v, %v", src, v, err)
		}
		_, _ = tmpl.Render(nil)
	})
}

func fuzzEnv(t testing.TB) *Env {
	return &Env{
		Task: decodeDoc(t, `{"language":"en","a":1,"b":"x","c":{"d":[{"e":-3}]},"skills":["support"],`+
			`"x":"xyz","in":"and","and":"and","nul":null,"arr":[1,"1",true,null,[],{}]}`),
		Worker:   decodeDoc(t, `{"skills":["support","sales"],"contact_uri":"client:a b"}`),
		Callback: decodeDoc(t, `{"TaskSid":"WT1","TaskAge":31}`),
		Hour:     8,
		Minute:   59,
		Weekday:  "sat",
	}
}
