package expr

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/assignd/assignd/policy/table"
)

// testScope holds a plain table with a number column and a hashed table.
func testScope(t testing.TB) *Scope {
	t.Helper()
	vip, err := table.Parse(table.Spec{Name: "vip", File: "vip.csv", Key: "phone", Columns: map[string]table.Type{"seats": table.Number}},
		[]byte("phone,tier,desk,seats\n+15551230000,gold,client:desk1,120\n+15559990000,silver,client:desk2,\n42,bronze,,7\n"))
	if err != nil {
		t.Fatal(err)
	}
	blocked, err := table.Parse(table.Spec{Name: "blocked", File: "blocked.csv", Key: "number_sha256", Hashed: true},
		[]byte("number_sha256,reason\n"+table.HashValue("+15550000666")+",fraud\n"))
	if err != nil {
		t.Fatal(err)
	}
	return &Scope{Tables: map[string]*table.Table{"vip": vip, "blocked": blocked}}
}

func tableEnv(t testing.TB, from string) *Env {
	return &Env{Task: decodeDoc(t, `{"from": "`+from+`", "account": 42, "flag": true, "list": ["a"]}`)}
}

func TestTableEval(t *testing.T) {
	sc := testScope(t)
	for _, tc := range []struct {
		src, from string
		want      bool
	}{
		{`tables.vip[task.from].tier == "gold"`, "+15551230000", true},
		{`tables.vip[task.from].tier == "gold"`, "+15559990000", false},
		{`tables.vip[task.from].tier != "gold"`, "+10000000000", false}, // a miss is NULL
		{`tables.vip[task.from].seats > 100`, "+15551230000", true},
		{`tables.vip[task.from].seats > 100`, "+15559990000", false}, // an empty number cell is NULL
		{`tables.vip[task.from].seats == "120"`, "+15551230000", false},
		{`tables.vip[task.account].tier == "bronze"`, "", true},
		{`tables.vip["42"].seats == 7`, "", true},
		{`tables.vip[42].desk == ""`, "", true},
		{`tables.vip[ task.from ].desk CONTAINS "desk1"`, "+15551230000", true},
		{`task.from IN tables.vip`, "+15551230000", true},
		{`task.from IN tables.vip`, "+10000000000", false},
		{`task.from NOT IN tables.vip`, "+10000000000", true},
		{`task.from NOT IN tables.vip`, "+15551230000", false},
		{`task.missing NOT IN tables.vip`, "", false}, // NULL is false for NOT IN too
		{`task.list NOT IN tables.vip`, "", false},
		{`task.flag NOT IN tables.vip`, "", true},
		{`task.account in tables.vip`, "", true},
		{`task.from IN tables.blocked`, "+15550000666", true},
		{`task.from IN tables.blocked`, "+15551230000", false},
		{`tables.blocked[task.from].reason == "fraud"`, "+15550000666", true},
		{`task.from IN tables.blocked OR tables.vip[task.from].tier == "gold"`, "+15551230000", true},
	} {
		e, err := sc.Compile(tc.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.src, err)
		}
		if got := e.Eval(tableEnv(t, tc.from)); got != tc.want {
			t.Errorf("%s with from=%q = %v, want %v", tc.src, tc.from, got, tc.want)
		}
		if e2, err := sc.Compile(e.Canonical()); err != nil || e2.Canonical() != e.Canonical() {
			t.Errorf("canonical %q does not compile to itself: %v", e.Canonical(), err)
		}
	}
}

func TestTableCompileErrors(t *testing.T) {
	sc := testScope(t)
	for _, tc := range []struct {
		src  string
		sc   *Scope
		want string
	}{
		{`tables.nope[task.from].tier == "x"`, sc, `column 8: unknown table "nope"; the policy defines blocked, vip`},
		{`tables.vip[task.from].nope == "x"`, sc, `column 23: table "vip" has no column "nope"; it has phone, tier, desk, seats`},
		{`tables.blocked[task.from].number_sha256 == "x"`, sc, `column 27: table "blocked" has no column "number_sha256"; it has reason`},
		{`tables.vip[task.from].tier == "x"`, nil, `column 8: unknown table "vip"; the policy defines no tables`},
		{`tables.vip == "x"`, sc, `column 1: tables.vip is a whole table`},
		{`"x" == tables.vip`, sc, `column 8: tables.vip is a whole table: only IN and NOT IN take one`},
		{`tables.vip IN ["x"]`, sc, `column 1: tables.vip is a whole table`},
		{`tables.vip[].tier == "x"`, sc, `column 12: expected a key`},
		{`tables.vip[["a"]].tier == "x"`, sc, `column 12: a table key is a reference`},
		{`tables.vip[true].tier == "x"`, sc, `column 12: a table key is a reference`},
		{`tables.vip[tables.vip["a"].tier].tier == "x"`, sc, `column 12: a table key is a reference`},
		{`tables.vip[task.from.tier == "x"`, sc, `column 27: expected "]" after the key`},
		{`tables.vip[task.from].tier.x == "x"`, sc, `column 27: a table cell is a string or a number`},
		{`tables. == 1`, sc, `column 8: expected a table name`},
	} {
		var err error
		if tc.sc != nil {
			_, err = tc.sc.Compile(tc.src)
		} else {
			_, err = Compile(tc.src)
		}
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Compile(%q) = %v, want %s", tc.src, err, tc.want)
		}
	}
}

func TestTableTemplates(t *testing.T) {
	sc := testScope(t)
	tm, err := sc.CompileTemplate("{{tables.vip[task.from].desk}}", false)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := tm.Render(tableEnv(t, "+15551230000")); err != nil || v != "client:desk1" {
		t.Errorf("Render = %v, %v", v, err)
	}
	var me *MissingError
	if _, err := tm.Render(tableEnv(t, "+10000000000")); !errors.As(err, &me) || me.Ref != "tables.vip[task.from].desk" {
		t.Errorf("Render of a miss = %v, want a MissingError", err)
	}
	tm, err = sc.CompileTemplate("https://x.example/{{ tables.vip[task.from].tier }}?n={{tables.vip[task.from].seats}}", true)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := tm.Render(tableEnv(t, "+15551230000")); err != nil || v != "https://x.example/gold?n=120" {
		t.Errorf("Render = %v, %v", v, err)
	}
	if refs := tm.Refs(); len(refs) != 2 || refs[0].String() != "task.from" {
		t.Errorf("Refs = %v, want the key references", refs)
	}
	for src, want := range map[string]string{
		"{{tables.vip}}":            "tables.vip is a whole table",
		"{{tables.vip[task.from]}}": "tables.vip[task.from] is a row",
		"{{tables.x[task.from].a}}": `unknown table "x"`,
	} {
		if _, err := sc.CompileTemplate(src, false); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CompileTemplate(%q) = %v, want %s", src, err, want)
		}
	}
}

func TestTableRefsReadTheKey(t *testing.T) {
	e, err := testScope(t).Compile(`task.from IN tables.blocked OR tables.vip[worker.id].tier == "gold" OR tables.vip["x"].tier == "y"`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range e.Refs() {
		got = append(got, r.String())
	}
	if want := []string{"task.from", "worker.id"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Refs = %v, want %v", got, want)
	}
}

func TestTableWhyAndLookups(t *testing.T) {
	sc := testScope(t)
	e, err := sc.Compile(`task.from IN tables.blocked OR tables.vip[task.from].tier == "gold" OR tables.blocked[task.from].reason == "spam"`)
	if err != nil {
		t.Fatal(err)
	}
	env := tableEnv(t, "+15559990000")
	why := e.Why(env)
	want := `task.from IN tables.blocked is false (no row has the key); tables.vip[task.from].tier == "gold" is false (tables.vip[task.from].tier is "silver"); tables.blocked[task.from].reason == "spam" is false: tables.blocked[task.from].reason is NULL (no row for the key in table blocked)`
	if why != want {
		t.Errorf("Why =\n%s\nwant\n%s", why, want)
	}
	got := e.Lookups(env)
	wantL := []Lookup{
		{Table: "blocked", Ref: "task.from IN tables.blocked"},
		{Table: "vip", Ref: "tables.vip[task.from].tier", Hit: true, Value: "silver"},
		{Table: "blocked", Ref: "tables.blocked[task.from].reason"},
	}
	if !reflect.DeepEqual(got, wantL) {
		t.Errorf("Lookups =\n%+v\nwant\n%+v", got, wantL)
	}
	// A hit in a hashed table shows no value, and OR stops at the first true.
	env = tableEnv(t, "+15550000666")
	if got := e.Lookups(env); !reflect.DeepEqual(got, []Lookup{{Table: "blocked", Ref: "task.from IN tables.blocked", Hit: true}}) {
		t.Errorf("Lookups = %+v", got)
	}
	e, _ = sc.Compile(`tables.blocked[task.from].reason == "spam"`)
	if why := e.Why(env); strings.Contains(why, "fraud") {
		t.Errorf("Why shows a hashed table's value: %s", why)
	}
	if got := e.Lookups(env); len(got) != 1 || got[0].Value != nil || !got[0].Hit {
		t.Errorf("Lookups = %+v", got)
	}
	e, _ = sc.Compile(`task.nothing NOT IN tables.vip`)
	if why := e.Why(env); why != "task.nothing NOT IN tables.vip is false: task.nothing is NULL (missing)" {
		t.Errorf("Why = %s", why)
	}
}

func TestTableEvalNoAllocs(t *testing.T) {
	sc := testScope(t)
	env := tableEnv(t, "+15550000666")
	for _, src := range []string{
		`tables.vip[task.from].tier == "gold"`,
		`tables.vip[task.account].seats > 1`,
		`task.from IN tables.blocked`,
		`task.from NOT IN tables.vip`,
		`tables.blocked[task.from].reason == "fraud"`,
	} {
		e, err := sc.Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		if allocs := testing.AllocsPerRun(200, func() { e.Eval(env) }); allocs != 0 {
			t.Errorf("%s: %v allocations per Eval, want 0", src, allocs)
		}
	}
}
