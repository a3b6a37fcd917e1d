package expr

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/assignd/assignd/internal/testkit"
)

// decodeDoc decodes a JSON object the way the server does, so that tests see
// the same Go types (float64, []any, map[string]any) as production.
func decodeDoc(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test document %s: %v", s, err)
	}
	return m
}

func testEnv(t testing.TB) *Env {
	return &Env{
		Task: decodeDoc(t, `{
			"language": "en", "tier": "silver", "age": 42, "score": 5.1, "vip": true, "off": false,
			"skills": ["support", "billing"], "nums": [1, 2.5, 3], "empty_list": [],
			"object": {"array": ["a", "b", "c"], "attr": "bar", "nested": {"deep": [{"x": 1}]}},
			"in": "kw", "AND": "kw2", "nullv": null, "empty": "", "mixed": ["1", 1, true, null, [1], {"a": 1}],
			"quote": "it's \"quoted\" \\ here", "n1": "1"
		}`),
		Worker:   decodeDoc(t, `{"languages": ["en", "fr"], "skill_rating": 6, "contact_uri": "client:alice", "id": "W1"}`),
		Callback: decodeDoc(t, `{"TaskSid": "WT123", "TaskAge": 30, "WorkerSid": "WK1"}`),
		Hour:     14,
		Minute:   5,
		Weekday:  "Tue",
	}
}

func mustCompile(t testing.TB, src string) *Expr {
	t.Helper()
	e, err := Compile(src)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			t.Fatalf("Compile(%q): %v\n%s", src, err, se.Caret())
		}
		t.Fatalf("Compile(%q): %v", src, err)
	}
	return e
}

func TestExprEval(t *testing.T) {
	env := testEnv(t)
	tests := []struct {
		name string
		src  string
		want bool
	}{
		// Constants.
		{"int equality", `1 == 1`, true},
		{"int inequality", `0 != 1`, true},
		{"int not equal false", `1 != 1`, false},
		{"int equals float", `1 == 1.0`, true},
		{"float trailing zeros", `1.00 == 1`, true},
		{"negative numbers", `-1 < 0`, true},
		{"negative float", `-3.5 == -3.50`, true},
		{"string constants differ", `"apple" != "orange"`, true},
		{"single and double quotes", `'apple' == "apple"`, true},
		{"bool constants", `true == true`, true},
		{"bool constants differ", `true != false`, true},
		{"bool keyword case", `TRUE == True`, true},
		{"string is not a number", `"1" == 1`, false},
		{"string differs from number", `"1" != 1`, true},
		{"bool is not a string", `true == "true"`, false},

		// Equality on references.
		{"ref equality", `task.language == "en"`, true},
		{"ref equality false", `task.language == "es"`, false},
		{"single equals alias", `task.language = "en"`, true},
		{"ref inequality", `task.language != "es"`, true},
		{"case-sensitive strings", `task.language == "EN"`, false},
		{"number ref", `task.age == 42`, true},
		{"number ref float form", `task.age == 42.0`, true},
		{"string ref vs number", `task.n1 == 1`, false},
		{"bool ref", `task.vip == true`, true},
		{"bool ref false", `task.off == false`, true},
		{"bool ref not equal", `task.vip != false`, true},
		{"empty string", `task.empty == ""`, true},
		{"constant on the left", `"en" == task.language`, true},
		{"ref on both sides", `task.language == worker.languages[0]`, true},
		{"escaped quotes", `task.quote == 'it\'s "quoted" \\ here'`, true},
		{"escaped quotes double", `task.quote == "it's \"quoted\" \\ here"`, true},

		// Ordering.
		{"greater", `task.age > 1`, true},
		{"greater false", `task.age > 42`, false},
		{"greater or equal", `task.age >= 42`, true},
		{"less", `task.score < 5.2`, true},
		{"less or equal", `task.score <= 5.1`, true},
		{"less or equal false", `task.score <= 5`, false},
		{"string ordering", `"apple" < "banana"`, true},
		{"string ordering ref", `task.language >= "en"`, true},
		{"string ordering case", `"Z" < "a"`, true},
		{"mixed ordering false", `task.n1 < 2`, false},
		{"mixed ordering false reversed", `task.n1 > 0`, false},
		{"bool ordering false", `true > false`, false},
		{"bool ordering ge false", `task.vip >= true`, false},

		// CONTAINS.
		{"contains", `task.object.attr CONTAINS "a"`, true},
		{"contains false", `task.object.attr CONTAINS "z"`, false},
		{"contains empty", `task.language CONTAINS ""`, true},
		{"contains case-sensitive", `task.language CONTAINS "E"`, false},
		{"contains on array is false", `task.skills CONTAINS "support"`, false},
		{"contains number false", `task.age CONTAINS 4`, false},
		{"contains lower-case keyword", `task.language contains "n"`, true},

		// HAS.
		{"has", `task.skills HAS "support"`, true},
		{"has single quotes", `task.skills HAS 'billing'`, true},
		{"has false", `task.skills HAS "sales"`, false},
		{"has number", `task.nums HAS 2.5`, true},
		{"has number int vs float", `task.nums HAS 1.0`, true},
		{"has no coercion", `task.nums HAS "1"`, false},
		{"has mixed array string", `task.mixed HAS "1"`, true},
		{"has mixed array bool", `task.mixed HAS true`, true},
		{"has on scalar is false", `task.language HAS "en"`, false},
		{"has empty list", `task.empty_list HAS "x"`, false},
		{"has list literal", `["a", "b"] HAS task.object.array[1]`, true},
		{"has ref right side", `worker.languages HAS task.language`, true},
		{"has array right side false", `task.skills HAS task.skills`, false},
		{"has lower-case", `task.skills has "support"`, true},

		// IN and NOT IN.
		{"in", `task.language IN ["en", "es"]`, true},
		{"in false", `task.language IN ["fr", "es"]`, false},
		{"in lower-case", `task.language in ['en']`, true},
		{"in numbers", `task.age IN [1, 42]`, true},
		{"in no coercion", `task.age IN ["42"]`, false},
		{"in empty list", `task.language IN []`, false},
		{"in ref array", `task.language IN worker.languages`, true},
		{"in scalar right is false", `task.language IN task.language`, false},
		{"in array left is false", `task.skills IN ["support"]`, false},
		{"in bool", `task.vip IN [false, true]`, true},
		{"not in", `task.language NOT IN ["fr", "es"]`, true},
		{"not in false", `task.language NOT IN ["en", "es"]`, false},
		{"not in lower-case", `task.language not in ["fr"]`, true},
		{"not in mixed case", `task.language Not In ["fr"]`, true},
		{"not in empty list", `task.language NOT IN []`, true},
		{"not in scalar right is false", `task.language NOT IN "fr"`, false},
		{"not in array left is false", `task.skills NOT IN ["x"]`, false},
		{"worker id in task list", `worker.id IN ["W1", "W2"]`, true},

		// NULL: every comparison with a missing value is false.
		{"missing eq", `task.nope == "x"`, false},
		{"missing ne", `task.nope != "x"`, false},
		{"missing gt", `task.nope > 1`, false},
		{"missing lt", `task.nope < 1`, false},
		{"missing contains", `task.nope CONTAINS "x"`, false},
		{"missing has", `task.nope HAS "x"`, false},
		{"missing in", `task.nope IN ["x"]`, false},
		{"missing not in", `task.nope NOT IN ["x"]`, false},
		{"missing right side ne", `"x" != task.nope`, false},
		{"missing has right", `task.skills HAS task.nope`, false},
		{"json null eq", `task.nullv == "x"`, false},
		{"json null ne", `task.nullv != "x"`, false},
		{"json null not in", `task.nullv NOT IN ["x"]`, false},
		{"missing both", `task.nope == task.nope2`, false},
		{"null element not found", `task.mixed HAS task.nope`, false},
		{"index out of range", `task.object.array[3] == "c"`, false},
		{"index out of range ne", `task.object.array[3] != "c"`, false},
		{"index on object", `task.object[0] == "a"`, false},
		{"key on array", `task.skills.x == "a"`, false},
		{"key on string", `task.language.x == "a"`, false},
		{"index on string", `task.language[0] == "e"`, false},
		{"missing root map", `callback.Nope == "x"`, false},

		// Arrays and objects with scalar operators.
		{"array eq false", `task.skills == "support"`, false},
		{"array ne false", `task.skills != "support"`, false},
		{"object eq false", `task.object == "x"`, false},
		{"object ne false", `task.object != "x"`, false},
		{"array vs array eq false", `task.skills == task.skills`, false},
		{"array ordering false", `task.nums > 0`, false},

		// Paths.
		{"nested key", `task.object.attr == "bar"`, true},
		{"index", `task.object.array[2] == "c"`, true},
		{"index zero", `task.object.array[0] == "a"`, true},
		{"deep path", `task.object.nested.deep[0].x == 1`, true},
		{"keyword as key", `task.in == "kw"`, true},
		{"upper keyword as key", `task.AND == "kw2"`, true},
		{"leading zeros index", `task.object.array[01] == "b"`, true},
		{"worker root", `worker.skill_rating >= 5.1`, true},
		{"callback root", `callback.TaskSid == "WT123"`, true},
		{"callback number", `callback.TaskAge > 20`, true},
		{"now hour", `now.hour == 14`, true},
		{"now hour range", `now.hour >= 9 AND now.hour < 17`, true},
		{"now minute", `now.minute == 5`, true},
		{"now weekday", `now.weekday IN ["Mon", "Tue"]`, true},
		{"now weekday false", `now.weekday == "Mon"`, false},
		{"now weekday lower case never matches", `now.weekday == "tue"`, false},

		// Logic and precedence.
		{"and", `1 == 1 AND 2 == 2`, true},
		{"and false", `1 == 1 AND 2 == 3`, false},
		{"and alias", `1 == 1 && 2 == 2`, true},
		{"or", `1 == 2 OR 2 == 2`, true},
		{"or false", `1 == 2 OR 2 == 3`, false},
		{"or alias", `1 == 2 || 2 == 2`, true},
		{"lower-case and or", `1 == 1 and 1 == 2 or 2 == 2`, true},
		{"and binds tighter (true OR false AND false)", `1 == 1 OR 1 == 2 AND 1 == 2`, true},
		{"and binds tighter (false AND false OR true)", `1 == 2 AND 1 == 2 OR 1 == 1`, true},
		{"parentheses override", `(1 == 1 OR 1 == 2) AND 1 == 2`, false},
		{"parentheses right", `1 == 2 AND (1 == 2 OR 1 == 1)`, false},
		{"nested parentheses", `((1 == 1))`, true},
		{"long or chain", `task.language == "a" OR task.language == "b" OR task.language == "en"`, true},
		{"long and chain", `task.age > 1 AND task.age < 100 AND task.vip == true AND task.language == "en"`, true},
		{"missing in or", `task.nope == 1 OR task.language == "en"`, true},
		{"docs example filter", `(task.language == "en" OR task.language == "fr") AND worker.skill_rating >= 5.1`, true},
		{"whitespace", "\ttask.language\n==\r\n'en'  ", true},
		{"no spaces", `task.age>=42&&task.language=='en'`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustCompile(t, tt.src)
			if got := e.Eval(env); got != tt.want {
				t.Errorf("Eval(%q) = %v, want %v (canonical %q)", tt.src, got, tt.want, e.Canonical())
			}
			// Why must be empty exactly when the expression is true.
			if why := e.Why(env); (why == "") != tt.want {
				t.Errorf("Why(%q) = %q with result %v", tt.src, why, tt.want)
			}
			// The canonical form is the same condition.
			if got := mustCompile(t, e.Canonical()).Eval(env); got != tt.want {
				t.Errorf("canonical %q evaluates to %v, want %v", e.Canonical(), got, tt.want)
			}
		})
	}
}

func TestExprNilEnv(t *testing.T) {
	for _, src := range []string{`task.x == 1`, `task.x != 1`, `now.hour == 0`, `task.x NOT IN [1]`} {
		e := mustCompile(t, src)
		if e.Eval(nil) {
			t.Errorf("Eval(nil) of %q = true, want false", src)
		}
		if e.Why(nil) == "" {
			t.Errorf("Why(nil) of %q is empty", src)
		}
	}
	if !mustCompile(t, `1 == 1`).Eval(nil) {
		t.Error("1 == 1 with a nil env is false")
	}
}

// TestExprGoTypes checks values an Env built by hand (not by encoding/json)
// may hold.
func TestExprGoTypes(t *testing.T) {
	env := &Env{Task: map[string]any{
		"i": 3, "i64": int64(4), "f32": float32(1.5), "num": json.Number("7"), "list": []any{1, int64(2)},
		"strs": []string{"a"},
	}}
	tests := []struct {
		src  string
		want bool
	}{
		{`task.i == 3`, true},
		{`task.i64 == 4`, true},
		{`task.f32 == 1.5`, true},
		{`task.num == 7`, true},
		{`task.list HAS 2`, true},
		{`3 IN task.list`, false},
		{`1 IN task.list`, true},
		{`task.strs HAS "a"`, false}, // not a JSON type: NULL
	}
	for _, tt := range tests {
		if got := mustCompile(t, tt.src).Eval(env); got != tt.want {
			t.Errorf("Eval(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestExprSyntaxErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		col  int
		msg  string
	}{
		{"empty", ``, 1, `empty expression`},
		{"blank", `   `, 1, `empty expression`},
		{"bare operand", `task.x`, 7, `expected an operator after "task.x"`},
		{"bare operand in and", `task.a == 1 AND task.x`, 23, `expected an operator after "task.x"`},
		{"bare operand before and", `(task.x AND task.y == 1)`, 9, `expected an operator after "task.x"`},
		{"bare constant", `true`, 5, `expected an operator after "true"`},
		{"bare string", `'en'`, 5, `expected an operator after 'en'`},
		{"bare string with a line break", "'a\nb'", 6, `expected an operator after "'a\nb'"`},
		{"missing right operand", `task.x ==`, 10, `expected a value after "=="`},
		{"missing right after keyword", `task.x IN`, 10, `expected a value after "IN"`},
		{"missing comparison after and", `task.x == 1 AND`, 16, `expected a comparison after "AND"`},
		{"operator as operand", `task.x == ==`, 11, `expected a value, found "=="`},
		{"keyword as operand", `task.x == AND`, 11, `expected a value, found "AND"`},
		{"keyword at start", `IN == 1`, 1, `expected a value, found "IN"`},
		{"not without in", `task.x NOT "a"`, 12, `expected IN after NOT, found "a"`},
		{"chained comparison", `1 == 1 == 1`, 8, `expected AND, OR or the end of the expression, found "=="`},
		{"two comparisons", `1 == 1 2 == 2`, 8, `expected AND, OR or the end of the expression, found "2"`},
		{"taskrouter unknown key", `taskrouter.currentDay == "Mon"`, 1, `unknown taskrouter.currentDay; taskrouter has only taskrouter.currentTime, taskrouter.currentHour, taskrouter.currentMin and taskrouter.dayOfWeek`},
		{"taskrouter case-sensitive", `taskrouter.currenttime > 800`, 1, `unknown taskrouter.currenttime; taskrouter has only taskrouter.currentTime, taskrouter.currentHour, taskrouter.currentMin and taskrouter.dayOfWeek`},
		{"taskrouter nested", `taskrouter.dayOfWeek.x == 1`, 1, `unknown taskrouter.dayOfWeek.x; taskrouter has only taskrouter.currentTime, taskrouter.currentHour, taskrouter.currentMin and taskrouter.dayOfWeek`},
		{"bare taskrouter", `taskrouter == 1`, 11, `expected "." and a key after "taskrouter"`},
		{"bare root", `task == 1`, 5, `expected "." and a key after "task"`},
		{"root then index", `task[0] == 1`, 5, `expected "." and a key after "task"`},
		{"dot without key", `task. == 1`, 6, `expected a key after "."`},
		{"dot then space", `task. x == 1`, 6, `expected a key after "."`},
		{"dot then digit", `task.0 == 1`, 6, `expected a key after "."`},
		{"trailing dot", `task.a. == 1`, 8, `expected a key after "."`},
		{"now unknown field", `now.year == 2024`, 1, `unknown now.year; now has only now.hour, now.minute and now.weekday`},
		{"now nested", `now.hour.x == 1`, 1, `unknown now.hour.x; now has only now.hour, now.minute and now.weekday`},
		{"now case-sensitive", `now.Hour == 1`, 1, `unknown now.Hour; now has only now.hour, now.minute and now.weekday`},
		{"negative index", `task.a[-1] == 1`, 8, `expected an array index (a non-negative integer) after "[", found "-1"`},
		{"float index", `task.a[1.5] == 1`, 8, `expected an array index (a non-negative integer) after "[", found "1.5"`},
		{"key index", `task.a[x] == 1`, 8, `expected an array index (a non-negative integer) after "[", found "x"`},
		{"huge index", `task.a[99999999999] == 1`, 8, `expected an array index (a non-negative integer) after "[", found "99999999999"`},
		{"unclosed index", `task.a[1 == 1`, 10, `expected "]" after the index, found "=="`},
		{"unterminated string", `task.x == "abc`, 11, `unterminated string`},
		{"unterminated single", `task.x == 'abc\'`, 11, `unterminated string`},
		{"bad escape", `task.x == "a\nb"`, 13, `unknown escape "\\n" in a string; only \", \' and \\ are allowed`},
		{"hyphen", `task.first-name == 1`, 11, `unexpected "-"; hyphens are not supported in expressions`},
		{"bang", `!task.x == 1`, 1, `unexpected "!"; there is no NOT operator (use != or NOT IN)`},
		{"single ampersand", `1 == 1 & 2 == 2`, 8, `unexpected "&"; use AND or &&`},
		{"single pipe", `1 == 1 | 2 == 2`, 8, `unexpected "|"; use OR or ||`},
		{"unexpected character", `task.x == 1 ; 2`, 13, `unexpected character ';'`},
		{"non-ascii", `task.x == é`, 11, `unexpected character 'é'`},
		{"column counts characters", `"é" == é`, 8, `unexpected character 'é'`},
		{"unmatched close", `1 == 1)`, 7, `unmatched ")"`},
		{"unclosed paren", `(1 == 1`, 8, `missing ")" to close the "(" at column 1`},
		{"unclosed inner paren", `(1 == 1 AND (2 == 2)`, 21, `missing ")" to close the "(" at column 1`},
		{"garbage in paren", `(1 == 1 2)`, 9, `expected AND, OR or ")", found "2"`},
		{"empty parens", `() AND 1 == 1`, 2, `expected a value, found ")"`},
		{"number then letters", `task.x == 12ab`, 11, `invalid number "12ab"`},
		{"number trailing dot", `task.x == 1.`, 13, `expected a digit after "1." in a number`},
		{"number two dots", `task.x == 1.2.3`, 11, `invalid number "1.2.3"`},
		{"number out of range", `task.x == ` + strings.Repeat("9", 400), 11, `number "` + strings.Repeat("9", 400) + `" is out of range`},
		{"list unclosed", `task.x IN ["a"`, 15, `missing "]" to close the "[" at column 11`},
		{"list unclosed empty", `task.x IN [`, 12, `missing "]" to close the "[" at column 11`},
		{"list trailing comma", `task.x IN ["a",]`, 16, `expected a constant in the list, found "]"`},
		{"list of refs", `task.x IN [task.y]`, 12, `expected a constant in the list, found "task"`},
		{"nested list", `task.x IN [[1]]`, 12, `expected a constant in the list, found "["`},
		{"list missing comma", `task.x IN ["a" "b"]`, 16, `expected "," or "]" in the list, found "b"`},
		{"list with eq", `task.x == ["a"]`, 11, `a list is only allowed on the left of HAS or the right of IN and NOT IN`},
		{"list on left of in", `["a"] IN task.x`, 1, `a list is only allowed on the left of HAS or the right of IN and NOT IN`},
		{"list on right of has", `task.x HAS ["a"]`, 12, `a list is only allowed on the left of HAS or the right of IN and NOT IN`},
		{"list contains", `["a"] CONTAINS "a"`, 1, `a list is only allowed on the left of HAS or the right of IN and NOT IN`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Compile(tt.src)
			if err == nil {
				t.Fatalf("Compile(%q) succeeded with canonical %q, want an error", tt.src, e.Canonical())
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) error %T %v, want *SyntaxError", tt.src, err, err)
			}
			if se.Col != tt.col || se.Msg != tt.msg {
				t.Errorf("Compile(%q) = column %d: %s\nwant column %d: %s\n%s", tt.src, se.Col, se.Msg, tt.col, tt.msg, se.Caret())
			}
			if se.Src != tt.src {
				t.Errorf("Src = %q, want %q", se.Src, tt.src)
			}
		})
	}
}

func TestSyntaxErrorFormat(t *testing.T) {
	_, err := Compile("task.a == 1 AND\ttask.x")
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a *SyntaxError", err)
	}
	if got, want := se.Error(), `column 23: expected an operator after "task.x"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	want := "task.a == 1 AND task.x\n" + strings.Repeat(" ", 22) + "^"
	if got := se.Caret(); got != want {
		t.Errorf("Caret() =\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(se.Error(), "\n") {
		t.Error("Error() spans lines")
	}
}

func TestExprLimits(t *testing.T) {
	nest := func(n int) string {
		return strings.Repeat("(", n) + "1 == 1" + strings.Repeat(")", n)
	}
	if _, err := Compile(nest(maxDepth)); err != nil {
		t.Errorf("%d levels: %v", maxDepth, err)
	}
	for _, n := range []int{maxDepth + 1, 100, 2000} {
		_, err := Compile(nest(n))
		var se *SyntaxError
		if !errors.As(err, &se) || se.Msg != "parentheses nested more than 64 deep" || se.Col != maxDepth+1 {
			t.Errorf("%d levels: got %v, want a depth error at column %d", n, err, maxDepth+1)
		}
	}

	long := "task.x == \"" + strings.Repeat("a", maxLen) + "\""
	if _, err := Compile(long); err == nil || !strings.Contains(err.Error(), "longer than 4096 bytes") {
		t.Errorf("long source: got %v, want a length error", err)
	}
	// A source within the limit whose canonical form is not (= becomes ==)
	// is rejected, so that Canonical always compiles.
	var parts []string
	for len(strings.Join(parts, "||")) < maxLen-10 {
		parts = append(parts, "1=1")
	}
	src := strings.Join(parts, "||")
	if _, err := Compile(src); err == nil || !strings.Contains(err.Error(), "once normalized") {
		t.Errorf("long canonical (%d bytes of source): got %v, want a length error", len(src), err)
	}
	// Long but flat chains are fine: AND/OR do not nest.
	chain := strings.Repeat("task.a == 1 AND ", 200) + "1 == 1"
	if _, err := Compile(chain); err != nil {
		t.Errorf("200-clause chain: %v", err)
	}
}

func TestExprCanonical(t *testing.T) {
	tests := []struct{ src, want string }{
		{`1==1`, `1 == 1`},
		{`task.a = 'x'`, `task.a == "x"`},
		{`task.a=="x"&&task.b!=2||task.c>=3.50`, `task.a == "x" AND task.b != 2 OR task.c >= 3.5`},
		{`task.a  contains  "x"`, `task.a CONTAINS "x"`},
		{`task.a has 'x'`, `task.a HAS "x"`},
		{`task.a in ['x','y']`, `task.a IN ["x", "y"]`},
		{`task.a not   in []`, `task.a NOT IN []`},
		{`task.a NoT iN [1 , 2.0, -0.5, TRUE]`, `task.a NOT IN [1, 2, -0.5, true]`},
		{`((task.a == 1)) or (task.b == 2 and task.c == 3)`, `((task.a == 1)) OR (task.b == 2 AND task.c == 3)`},
		{`task.a[007].b == 1`, `task.a[7].b == 1`},
		{`task.q == 'it\'s "x" \\'`, `task.q == "it's \"x\" \\"`},
		{`task.q == "tab	in"`, `task.q == "tab	in"`},
		{`now.hour<9`, `now.hour < 9`},
		{`-0 == 0`, `-0 == 0`},
		{`task.x == 100000000000000000000`, `task.x == 100000000000000000000`},
		{`task.x == 0.000001`, `task.x == 0.000001`},
		{`True == fAlSe`, `true == false`},
	}
	for _, tt := range tests {
		e := mustCompile(t, tt.src)
		if got := e.Canonical(); got != tt.want {
			t.Errorf("Canonical(%q) = %q, want %q", tt.src, got, tt.want)
		}
		if again := mustCompile(t, e.Canonical()).Canonical(); again != e.Canonical() {
			t.Errorf("Canonical(%q) recompiles to %q", e.Canonical(), again)
		}
		if e.Source() != tt.src {
			t.Errorf("Source() = %q, want %q", e.Source(), tt.src)
		}
	}
	// Spelling variants of one condition share a canonical form.
	a := mustCompile(t, `task.a = 'x' && (task.b in [1,2])`).Canonical()
	b := mustCompile(t, `task.a == "x" AND (task.b IN [1, 2.0])`).Canonical()
	if a != b {
		t.Errorf("variants differ: %q vs %q", a, b)
	}
}

func TestExprWarnings(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{`task.a == 1 AND task.b == 2`, nil},
		{`(task.a == 1 AND task.b == 2) OR task.c == 3`, nil},
		{`task.a == 1 AND (task.b == 2 OR task.c == 3)`, nil},
		{`task.a == 1 AND task.b == 2 OR task.c == 3`,
			[]string{`AND and OR mixed without parentheses; read as (task.a == 1 AND task.b == 2) OR task.c == 3`}},
		{`task.a == 1 OR task.b == 2 && task.c == 3 OR task.d == 4`,
			[]string{`AND and OR mixed without parentheses; read as task.a == 1 OR (task.b == 2 AND task.c == 3) OR task.d == 4`}},
		{`(task.a == 1 OR task.b == 2 AND task.c == 3)`,
			[]string{`AND and OR mixed without parentheses; read as task.a == 1 OR (task.b == 2 AND task.c == 3)`}},
		{`task.x IN "abc"`, []string{`task.x IN "abc" is always false: IN needs an array on the right`}},
		{`task.x NOT IN 1`, []string{`task.x NOT IN 1 is always false: NOT IN needs an array on the right`}},
		{`"a" HAS task.x`, []string{`"a" HAS task.x is always false: HAS needs an array on the left`}},
		// Twilio's day names are Mon..Sun; any other
		// string never matches.
		{`now.weekday == "Mon"`, nil},
		{`now.weekday == "mon"`, []string{`now.weekday == "mon": "mon" is not a day name; now.weekday is one of "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"`}},
		{`"Monday" != now.weekday`, []string{`"Monday" != now.weekday: "Monday" is not a day name; now.weekday is one of "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"`}},
		{`taskrouter.dayOfWeek IN ["Mon", "Tue", "THU"]`, []string{`taskrouter.dayOfWeek IN ["Mon", "Tue", "THU"]: "THU" is not a day name; taskrouter.dayOfWeek is one of "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"`}},
		{`taskrouter.dayOfWeek NOT IN ["Sat", "Sun"]`, nil},
		{`now.weekday == task.day`, nil},
		// a bare key that looks like a misspelt root
		// still reads the task, but says so.
		{`tsk.language == "es"`, []string{`tsk.language reads the task attribute "tsk"; did you mean task.language?`}},
		{`Task.x == 1`, []string{`Task.x reads the task attribute "Task"; did you mean task.x?`}},
		{`1 == tasks.x`, []string{`tasks.x reads the task attribute "tasks"; did you mean task.x?`}},
		{`foo.bar == 1`, nil},
		{`language == "en"`, nil},
	}
	for _, tt := range tests {
		got := mustCompile(t, tt.src).Warnings()
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("Warnings(%q) =\n%q\nwant\n%q", tt.src, got, tt.want)
		}
	}
}

func TestExprWhy(t *testing.T) {
	env := testEnv(t)
	tests := []struct{ src, want string }{
		{`task.language == "es"`, `task.language == "es" is false (task.language is "en")`},
		{`task.tier IN ["gold", "platinum"]`, `task.tier IN ["gold", "platinum"] is false (task.tier is "silver")`},
		{`task.nope IN ["gold", "platinum"]`, `task.nope IN ["gold", "platinum"] is false: task.nope is NULL (missing)`},
		{`task.nullv == 1`, `task.nullv == 1 is false: task.nullv is NULL (null)`},
		{`task.a.b.c == 1`, `task.a.b.c == 1 is false: task.a.b.c is NULL (task.a is missing)`},
		{`task.object.array[5] == "c"`, `task.object.array[5] == "c" is false: task.object.array[5] is NULL (index 5 is out of range: the array has 3 elements)`},
		{`task.language.x == 1`, `task.language.x == 1 is false: task.language.x is NULL (task.language is a string, not an object)`},
		{`task.object[0] == 1`, `task.object[0] == 1 is false: task.object[0] is NULL (task.object is an object, not an array)`},
		{`task.nope == worker.nope`, `task.nope == worker.nope is false: task.nope is NULL (missing), worker.nope is NULL (missing)`},
		{`task.n1 == 1`, `task.n1 == 1 is false (task.n1 is "1"; a string never equals a number)`},
		{`task.n1 > 0`, `task.n1 > 0 is false (task.n1 is "1"; > compares two numbers or two strings)`},
		{`task.skills == "support"`, `task.skills == "support" is false (task.skills is ["support","billing"]; == does not compare arrays or objects)`},
		{`task.language HAS "en"`, `task.language HAS "en" is false (task.language is "en"; HAS needs an array on the left and a scalar on the right)`},
		{`task.language IN task.language`, `task.language IN task.language is false (task.language is "en"; task.language is "en"; IN needs a scalar on the left and an array on the right)`},
		{`task.age CONTAINS 4`, `task.age CONTAINS 4 is false (task.age is 42; CONTAINS needs two strings)`},
		{`1 == 2`, `1 == 2 is false`},
		{`now.hour < 9`, `now.hour < 9 is false (now.hour is 14)`},
		// AND names the first false operand only.
		{`task.language == "en" AND task.age > 50 AND task.vip == false`, `task.age > 50 is false (task.age is 42)`},
		// OR names every branch.
		{`task.language == "fr" OR (task.tier == "gold" AND task.age > 1) OR task.nope == 1`,
			`task.language == "fr" is false (task.language is "en"); task.tier == "gold" is false (task.tier is "silver"); task.nope == 1 is false: task.nope is NULL (missing)`},
		{`task.language == "en"`, ``},
	}
	for _, tt := range tests {
		if got := mustCompile(t, tt.src).Why(env); got != tt.want {
			t.Errorf("Why(%q) =\n%s\nwant\n%s", tt.src, got, tt.want)
		}
	}
}

func TestExprWhyTruncatesLongValues(t *testing.T) {
	env := &Env{Task: map[string]any{"big": []any{strings.Repeat("x", 200)}}}
	why := mustCompile(t, `task.big HAS "y"`).Why(env)
	if len(why) > 200 || !strings.Contains(why, "…") {
		t.Errorf("Why = %q, want a truncated value", why)
	}
}

// TestExprEvalNoAllocs guards the property that makes expressions cheap to
// evaluate against every worker: no allocation for the common operators.
func TestExprEvalNoAllocs(t *testing.T) {
	env := testEnv(t)
	tests := []struct {
		name string
		src  string
	}{
		{"eq", `task.language == "en"`},
		{"eq number", `task.age == 42`},
		{"ne", `task.language != "es"`},
		{"lt", `task.score < 6`},
		{"ge string", `task.language >= "a"`},
		{"in", `task.language IN ["fr", "es", "en"]`},
		{"not in", `task.language NOT IN ["fr", "es"]`},
		{"has", `task.skills HAS "billing"`},
		{"in ref array", `task.language IN worker.languages`},
		{"contains", `task.object.attr CONTAINS "ar"`},
		{"and", `task.language == "en" AND worker.skill_rating >= 5.1`},
		{"or", `task.language == "fr" OR task.vip == true`},
		{"mix", `(task.language == "en" OR task.language == "fr") AND worker.skill_rating >= 5.1 AND task.skills HAS "support"`},
		{"deep path", `task.object.nested.deep[0].x == 1`},
		{"now", `now.hour >= 9 AND now.weekday != "Sun"`},
		{"missing", `task.nope == 1 OR task.nope NOT IN [1]`},
	}
	for _, tt := range tests {
		e := mustCompile(t, tt.src)
		if allocs := testing.AllocsPerRun(200, func() { e.Eval(env) }); allocs != 0 {
			t.Errorf("Eval(%q) allocates %v times per run, want 0", tt.src, allocs)
		}
	}
}

func TestExprConcurrent(t *testing.T) {
	env := testEnv(t)
	e := mustCompile(t, `(task.language == "en" OR task.language == "fr") AND task.skills HAS "support"`)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if !e.Eval(env) || e.Why(env) != "" {
					t.Error("wrong result under concurrency")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestParseRef(t *testing.T) {
	for _, tt := range []struct{ src, want, err string }{
		{"task.a", "task.a", ""},
		{"worker.a[0].b", "worker.a[0].b", ""},
		{"now.weekday", "now.weekday", ""},
		{"callback.TaskSid", "callback.TaskSid", ""},
		{"task.a == 1", "", `column 8: unexpected "==" after "task.a"`},
		{"task.", "", `column 6: expected a key after "."`},
		{"1", "", `column 1: expected a reference such as task.key, found "1"`},
		{"", "", `column 1: expected a reference such as task.key, found the end`},
		{"foo.x", "task.foo.x", ""},
		{"language", "task.language", ""},
		{"taskrouter.dayOfWeek", "taskrouter.dayOfWeek", ""},
		{"taskrouter.x", "", `column 1: unknown taskrouter.x; taskrouter has only taskrouter.currentTime, taskrouter.currentHour, taskrouter.currentMin and taskrouter.dayOfWeek`},
	} {
		r, err := ParseRef(tt.src)
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("ParseRef(%q) error = %v, want %s", tt.src, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("ParseRef(%q): %v", tt.src, err)
		case tt.err == "" && r.String() != tt.want:
			t.Errorf("ParseRef(%q) = %q, want %q", tt.src, r.String(), tt.want)
		}
	}
}

// goldenResult is what a golden case line records for src: its result in
// each environment, separated by spaces.
func goldenResult(src string, envs []*Env) string {
	e, err := Compile(src)
	if err != nil {
		return "error: " + err.Error()
	}
	out := make([]string, len(envs))
	for i, env := range envs {
		out[i] = strconv.FormatBool(e.Eval(env))
	}
	return strings.Join(out, " ")
}

// goldenEnvs returns one environment per line of the clocks section (an
// RFC 3339 time, with now.* read in the timezone section's zone, UTC by
// default), or the one fixed environment when there is no clocks section.
func goldenEnvs(t *testing.T, sections map[string]string) []*Env {
	base := Env{Hour: 10, Minute: 30, Weekday: "Wed", UTCHour: 14, UTCMinute: 30, UTCWeekday: "Wed"}
	if s, ok := sections["task.json"]; ok {
		base.Task = decodeDoc(t, s)
	}
	if s, ok := sections["worker.json"]; ok {
		base.Worker = decodeDoc(t, s)
	}
	clocks, ok := sections["clocks"]
	if !ok {
		return []*Env{&base}
	}
	loc := time.UTC
	if tz := strings.TrimSpace(sections["timezone"]); tz != "" {
		var err error
		if loc, err = time.LoadLocation(tz); err != nil {
			t.Fatal(err)
		}
	}
	var envs []*Env
	for _, line := range strings.Fields(clocks) {
		at, err := time.Parse(time.RFC3339, line)
		if err != nil {
			t.Fatalf("clocks: %v", err)
		}
		env := base
		env.SetClock(at, loc)
		envs = append(envs, &env)
	}
	return envs
}

// TestExprGolden evaluates the cases of each testdata/expr/*.txtar file
// against its task.json and worker.json, at each time of its clocks
// section. The files are txtar archives: a comment, then "-- name --"
// sections; the cases section holds lines `expression => result`, blank
// lines and # comments, where result has one true or false per clock.
// With -update it rewrites the results.
func TestExprGolden(t *testing.T) {
	for _, file := range testkit.Archives(t, filepath.Join("testdata", "expr")) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			a := testkit.ReadArchive(t, file)
			sections := map[string]string{}
			for _, f := range a.Files {
				sections[f.Name] = string(f.Data)
			}
			envs := goldenEnvs(t, sections)
			var out []string
			n := 0
			for i, line := range strings.Split(testkit.Section(t, a, "cases"), "\n") {
				if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
					out = append(out, line)
					continue
				}
				src, want, found := strings.Cut(line, " => ")
				if !found {
					t.Fatalf("cases line %d: no \" => \" in %q", i+1, line)
				}
				n++
				got := goldenResult(src, envs)
				if got != want && !testkit.Updating() {
					t.Errorf("%s\n got: %s\nwant: %s", src, got, want)
				}
				out = append(out, src+" => "+got)
			}
			if n == 0 {
				t.Fatal("no cases")
			}
			if testkit.Updating() {
				// Only now: the comparison above reports each case by itself.
				testkit.Golden(t, file, a, txtar.File{Name: "cases", Data: []byte(strings.Join(out, "\n"))})
			}
		})
	}
}
