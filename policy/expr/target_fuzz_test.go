package expr

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

// FuzzCompileTarget holds, for target expressions, what FuzzExpr holds for
// filters, and that the canonical form, with every root spelt out, is the
// same condition when compiled as a filter.
func FuzzCompileTarget(f *testing.F) {
	for _, s := range []string{
		`skills HAS 'support' AND languages HAS 'english'`,
		`languages HAS task.language OR sid == "WK1"`,
		`tsk.language == "en"`,
		`activity_name == "Idle" AND worker.friendly_name != ""`,
		`skills HAS`,
	} {
		f.Add(s)
	}
	env := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, src string) {
		e, err := CompileTarget(src)
		if err != nil {
			return
		}
		got := e.Eval(env)
		if (e.Why(env) == "") != got {
			t.Fatalf("%q: Eval = %v but Why = %q", src, got, e.Why(env))
		}
		e2, err := Compile(e.Canonical())
		if err != nil {
			t.Fatalf("canonical %q of %q does not compile as a filter: %v", e.Canonical(), src, err)
		}
		if e2.Canonical() != e.Canonical() || e2.Eval(env) != got {
			t.Fatalf("%q as a target and its canonical %q as a filter disagree", src, e.Canonical())
		}
	})
}

// FuzzPlainDecimal holds that a JSON number is inserted into text as a
// plain decimal of exactly its value.
func FuzzPlainDecimal(f *testing.F) {
	for _, s := range []string{"15", "15.0", "1.5e1", "1e2", "-2.5E-3", "0e0", "12345678901234567890e-20"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, num string) {
		// Only JSON number literals: attributes are decoded with
		// UseNumber, so a json.Number never holds a quoted string, though
		// Unmarshal into a json.Number accepts one ("0" with its quotes).
		d := json.NewDecoder(strings.NewReader(num))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil || d.InputOffset() != int64(len(num)) || strings.TrimSpace(num) != num {
			return
		}
		if _, isNumber := v.(json.Number); !isNumber {
			return
		}
		got := plainDecimal(num)
		if got == num {
			return // as sent: the same value, plain or past the bound
		}
		if strings.ContainsAny(got, "eE+") {
			t.Fatalf("plainDecimal(%s) = %s, not plain", num, got)
		}
		want, ok1 := new(big.Rat).SetString(num)
		have, ok2 := new(big.Rat).SetString(got)
		if !ok1 || !ok2 || want.Cmp(have) != 0 {
			t.Fatalf("plainDecimal(%s) = %s, another value", num, got)
		}
	})
}
