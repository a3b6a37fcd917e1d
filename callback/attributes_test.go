package callback

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assignd/assignd/internal/testkit"

	"github.com/assignd/assignd/policy"
)

// scannerSeeds are attribute documents at the edges of what the scanner
// must accept and refuse the way encoding/json does.
var scannerSeeds = []string{
	``, `{}`, ` {"a":1} `, `{"a":"}"}`, `{"a":"\"{["}`, `{"a":"\\"}`, `{"a":"\\\"]"}`,
	`{"a":[1,{"b":[]}]}`, `[]`, `null`, `"x"`, `{} {}`, `{}x`, `{"a":`, `{"a":1}}`,
	`{"a":"]]]]"}`, "{\"a\":\"\xff\"}", "\t\n{\r}", `{"a":1,}`, nested(63), nested(64), nested(65), nested(100),
	`{"a":1e400}`, `{"a":-1e400}`, `{"a":1e-400}`, `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":1E+2}`,
	`{"a":-0.0e-0}`, `{"a":+1}`, `{"a":tru}`, `{"a":true,"a":false}`, `{"a":nul}`, `{"\u0061":1}`, `{"a\"b":2}`,
	`{"a":"\ud800"}`, `{"a":"\u00e9\/"}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", "{\"a\":\"é\"}",
	`{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":{"b":{}}, "c": [ true , null ] }`,
	"{\"a\":1}\x00", "\ufeff{}", `{"a":123456789012345678901234567890}`, `{"language":"es","skills":["a","b"]}`,
}

// FuzzAttributeScanner holds projectAttributes to the checks it replaced
// on the hot path (checkJSONObject, then json.Unmarshal into a map): it
// accepts exactly the documents they accept, and the values it decodes
// are the ones they decode.
func FuzzAttributeScanner(f *testing.F) {
	for _, s := range scannerSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		want, wantErr := referenceAttributes(v)
		keys := append(slices.Sorted(maps.Keys(want)), "not-there")
		got, ok := projectAttributes(v, keys)
		if ok != (wantErr == nil) {
			t.Fatalf("%q: scanner accepts = %v, but encoding/json says %v", v, ok, wantErr)
		}
		if !ok {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: projected %#v, want %#v", v, got, want)
		}
		if none, _ := projectAttributes(v, nil); len(none) != 0 {
			t.Fatalf("%q: projected %#v for no keys", v, none)
		}
	})
}

// TestProjectAttributes pins the scanner's answers on the seeds, so that
// a plain go test runs them even without the fuzzer.
func TestProjectAttributes(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want []string
		out  map[string]any
		ok   bool
	}{
		{"only wanted keys", `{"language":"es","tier":"gold","n":1}`, []string{"language", "n"}, map[string]any{"language": "es", "n": json.Number("1")}, true},
		{"last duplicate wins", `{"a":1,"a":[true,null]}`, []string{"a"}, map[string]any{"a": []any{true, nil}}, true},
		{"escaped key", `{"l\u0061ng":"x"}`, []string{"lang"}, map[string]any{"lang": "x"}, true},
		{"missing key is absent", `{"a":1}`, []string{"b"}, map[string]any{}, true},
		{"empty is an empty object", ``, []string{"a"}, map[string]any{}, true},
		{"out of range elsewhere", `{"a":1,"b":1e999}`, []string{"a"}, nil, false},
		{"too deep elsewhere", `{"a":1,"b":` + nested(64)[1:], []string{"a"}, nil, false},
		{"trailing data", `{"a":1} x`, []string{"a"}, nil, false},
		{"invalid UTF-8 elsewhere", "{\"a\":1,\"b\":\"\xff\"}", []string{"a"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := projectAttributes(tc.doc, tc.want)
			if ok != tc.ok || !reflect.DeepEqual(out, tc.out) {
				t.Errorf("projectAttributes(%q, %q) = %#v, %v; want %#v, %v", tc.doc, tc.want, out, ok, tc.out, tc.ok)
			}
		})
	}
}

// TestProjectAttributesAllocs keeps the scan of keys the policy does not
// read free of allocations: only the result map and wanted values cost.
func TestProjectAttributesAllocs(t *testing.T) {
	doc := `{"language":"es","tier":"gold","customer":{"name":"Ana","accounts":[{"tier":"gold"},1.5e3]}}`
	if n := testing.AllocsPerRun(100, func() { projectAttributes(doc, []string{"language"}) }); n > 3 {
		t.Errorf("projectAttributes allocates %.0f times, want at most 3 (the map, its one group and the boxed string)", n)
	}
}

// decidePolicies returns the policies of the policy package's decision
// golden files, and the attribute documents their callbacks carry.
func decidePolicies(tb testing.TB) (pols []*policy.Policy, docs []string) {
	tb.Helper()
	for _, file := range testkit.Archives(tb, filepath.Join("..", "policy", "testdata", "decide")) {
		a := testkit.ReadArchive(tb, file)
		p, err := policy.Parse(file, []byte(testkit.Section(tb, a, "policy.yaml")))
		if err != nil {
			tb.Fatalf("%s: %v", file, err)
		}
		pols = append(pols, p)
		for line := range strings.Lines(testkit.Section(tb, a, "callback")) {
			if _, doc, ok := strings.Cut(strings.TrimSpace(line), "Attributes="); ok {
				docs = append(docs, doc)
			}
		}
	}
	return pols, docs
}

// FuzzProjectedDecide holds the callback handler's projection to the
// whole documents: for every golden policy, Decide and Explain on the
// Input of a callback parsed with the policy's Reads are what they are on
// the Input of Parse, which decodes everything.
func FuzzProjectedDecide(f *testing.F) {
	pols, docs := decidePolicies(f)
	for i, d := range docs {
		f.Add(d, docs[(i+1)%len(docs)], "600", "alice")
	}
	f.Add(`{"skills":["billing"],"a":{"b":[1,{"c":"x"}]}}`, `{"skills":"billing","level":3}`, "", "")
	f.Fuzz(func(t *testing.T, task, worker, age, name string) {
		form := callbackForm(task)
		form.Set("WorkerAttributes", worker)
		form.Set("TaskAge", age)
		form.Set("WorkerName", name)
		full, err := Parse(form)
		if err != nil {
			return
		}
		now := time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)
		for _, p := range pols {
			reads := p.Reads()
			if reads.All {
				t.Fatalf("%s: Reads knows every root the golden policies use", p.File())
			}
			fields := make(map[string]string, len(full.Fields))
			maps.Copy(fields, full.Fields)
			proj, err := ParseFields(fields, &reads)
			if err != nil {
				t.Fatalf("%s: the projection refuses what Parse accepts: %v", p.File(), err)
			}
			got, want := p.Explain(proj.Input(now)), p.Explain(full.Input(now))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: task %q worker %q:\nprojected: %s\nwhole:     %s", p.File(), task, worker, explained(got), explained(want))
			}
			if d := p.Decide(proj.Input(now)); !reflect.DeepEqual(d, want.Decision) {
				t.Fatalf("%s: Decide on the projection chose %s, Explain on the whole %s", p.File(), d.JSON, want.Decision.JSON)
			}
			if tk, wk := proj.Attributes(); !reflect.DeepEqual(tk, full.TaskAttributes) || !reflect.DeepEqual(wk, full.WorkerAttributes) {
				t.Fatalf("Attributes of a projected callback differ from Parse's")
			}
		}
	})
}

func explained(ex policy.Explanation) string {
	return fmt.Sprintf("%s %s %+v", ex.Decision.Rule, ex.Decision.JSON, ex.Steps)
}
