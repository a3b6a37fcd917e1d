package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// copyTables copies testdata/tables into a fresh directory and returns the
// policy's path there.
func copyTables(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir("testdata/tables")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata/tables", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, e.Name()), string(b))
	}
	return filepath.Join(dir, "policy.yaml")
}

func writeFile(t *testing.T, path, src string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func tableInput(from, account string) *Input {
	return &Input{Task: map[string]any{"from": from, "account": account}, Now: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
}

func TestTablesDecide(t *testing.T) {
	p, err := LoadFile("testdata/tables/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, account, rule, to string
	}{
		{"+15550000666", "", "blocked", ""},
		{"+15551230000", "", "vip", "client:gold-desk"},
		{"+15559990000", "", "default", ""},                       // silver, a small account
		{"+15559990000", "ACME", "vip", "client:silver-desk"},     // 250 seats
		{"+10000000000", "ACME", "vip_render_failed_goes_on", ""}, // no vip row: the template fails, the rule is skipped
		{"+10000000000", "SMALL", "default", ""},
	} {
		d := p.Decide(tableInput(tc.from, tc.account))
		want := tc.rule
		if want == "vip_render_failed_goes_on" {
			want = "default"
			if len(d.Skipped) != 1 || d.Skipped[0].Rule != "vip" || !strings.Contains(d.Skipped[0].Detail, "tables.vip[task.from].desk is missing") {
				t.Errorf("%s/%s: skipped = %+v, want vip skipped", tc.from, tc.account, d.Skipped)
			}
		}
		if d.Rule != want {
			t.Errorf("%s/%s: rule %q, want %q", tc.from, tc.account, d.Rule, want)
		}
		if tc.to != "" && !strings.Contains(string(d.JSON), `"to":"`+tc.to+`"`) {
			t.Errorf("%s/%s: reply %s, want to %s", tc.from, tc.account, d.JSON, tc.to)
		}
	}
	if got := Summary(p); !strings.HasPrefix(got, "3 rules, 3 tables (accounts 2 rows, blocked 2 rows, vip 2 rows), hash ") {
		t.Errorf("Summary = %s", got)
	}
	if rd := p.Reads(); rd.All || strings.Join(rd.Task, ",") != "account,from" {
		t.Errorf("Reads = %+v, want the tables' keys", rd)
	}
}

func TestTablesExplainLookups(t *testing.T) {
	p, err := LoadFile("testdata/tables/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ex := p.Explain(tableInput("+15551230000", ""))
	if len(ex.Steps) < 2 {
		t.Fatalf("steps = %+v", ex.Steps)
	}
	blocked, vip := ex.Steps[0].Lookups, ex.Steps[1].Lookups
	if len(blocked) != 1 || blocked[0].Table != "blocked" || blocked[0].Hit {
		t.Errorf("blocked lookups = %+v", blocked)
	}
	// The condition's OR stops at the hit; the template looks up again.
	if len(vip) != 2 || vip[0].Ref != "tables.vip[task.from].tier" || vip[0].Value != "gold" || vip[1].Ref != "tables.vip[task.from].desk" || !vip[1].Hit {
		t.Errorf("vip lookups = %+v", vip)
	}
	ex = p.Explain(tableInput("+15550000666", ""))
	if l := ex.Steps[0].Lookups; len(l) != 1 || !l[0].Hit || l[0].Value != nil {
		t.Errorf("hashed hit = %+v", l)
	}
}

func TestTablesProblems(t *testing.T) {
	for _, tc := range []struct {
		name, policy, csv string
		want              []string
	}{
		{"duplicate key and wrong type", "", "phone,tier,desk\n+1,gold,a\n+1,gold,b\n",
			[]string{"vip.csv:3: phone: duplicate key: first on line 2"}},
		{"bad quoting", "", "phone,tier,desk\n+1,\"gold,a\n",
			[]string{"vip.csv:2: bad CSV quoting"}},
		{"missing key column", "", "number,tier,desk\n+1,gold,a\n",
			[]string{"vip.csv:1: phone: missing key column: the header has number, tier, desk"}},
		{"unknown table", "    when: tables.vpi[task.from].tier == \"gold\"\n", "",
			[]string{`policy.yaml:5: rule "r" (#1): when: column 8: unknown table "vpi"; the policy defines vip`}},
		{"unknown column", "    when: tables.vip[task.from].level == \"gold\"\n", "",
			[]string{`policy.yaml:5: rule "r" (#1): when: column 23: table "vip" has no column "level"; it has phone, tier, desk`}},
		{"template from a row", "    when: task.x == 1\n    params: {to: \"{{tables.vip[task.from].nope}}\"}\n", "",
			[]string{`policy.yaml:6: rule "r" (#1): params.to: placeholder 1 "{{tables.vip[task.from].nope}}": table "vip" has no column "nope"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			when := tc.policy
			if when == "" {
				when = "    when: task.from IN tables.vip\n"
			}
			csv := tc.csv
			if csv == "" {
				csv = "phone,tier,desk\n+1,gold,a\n"
			}
			writeFile(t, filepath.Join(dir, "vip.csv"), csv)
			src := "version: 1\ntables: {vip: {file: vip.csv, key: phone}}\nrules:\n  - name: r\n" + when +
				"    instruction: dequeue\n  - name: d\n    instruction: accept\n"
			_, err := Parse(filepath.Join(dir, "policy.yaml"), []byte(src))
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LoadError", err)
			}
			got := strings.ReplaceAll(le.Error(), dir+"/", "")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("problems:\n%s\nwant %s", got, w)
				}
			}
			if len(le.Problems) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%s", len(le.Problems), len(tc.want), got)
			}
		})
	}
}

func TestTablesSectionProblems(t *testing.T) {
	src := `version: 1
tables:
  1bad: {file: x.csv, key: k}
  nofile: {key: k}
  hashed: {file: x.csv, key: k, hash: md5}
  typed: {file: x.csv, key: k, columns: {n: integer}}
  gone: {file: missing.csv, key: k}
rules:
  - name: d
    instruction: accept
`
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "x.csv"), "k,n\na,1\n")
	_, err := Parse(filepath.Join(dir, "p.yaml"), []byte(src))
	if err == nil {
		t.Fatal("Parse accepted a bad tables section")
	}
	got := strings.ReplaceAll(err.Error(), dir+"/", "")
	for _, want := range []string{
		"p.yaml:3: tables.1bad: not a usable table name",
		"p.yaml:4: tables.nofile.file: missing: the CSV file",
		`p.yaml:5: tables.hashed.hash: "md5" is not a supported hash`,
		`p.yaml:6: tables.typed.columns.n: "integer" is not a column type`,
		`p.yaml:7: tables.gone.file: reading table "gone": open missing.csv: no such file or directory`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems:\n%s\nwant %s", got, want)
		}
	}
}

func TestTablesSizeLimit(t *testing.T) {
	_, err := LoadFileWith("testdata/tables/policy.yaml", Options{MaxTableBytes: 100})
	if err == nil || !strings.Contains(err.Error(), "testdata/tables/blocked.csv: larger than the limit of 100 bytes (ASSIGND_MAX_TABLE_BYTES)") {
		t.Errorf("err = %v", err)
	}
}

func TestTablesBundleHash(t *testing.T) {
	p, err := Parse("p.yaml", []byte(goodA))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(goodA))
	if p.Hash() != hex.EncodeToString(sum[:])[:12] {
		t.Errorf("without tables the hash is the file's SHA-256: %s", p.Hash())
	}
	path := copyTables(t)
	s, reg := newTestStore(t)
	if _, err := s.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	first := s.Current().Hash()
	if sum := sha256.Sum256(s.Current().Source()); first == hex.EncodeToString(sum[:])[:12] {
		t.Error("with tables the hash must cover them")
	}
	if changed, err := s.LoadFile(path); changed || err != nil {
		t.Errorf("unchanged bundle: changed %v, err %v", changed, err)
	}
	// A change to a table alone is a new bundle.
	vip := filepath.Join(filepath.Dir(path), "vip.csv")
	writeFile(t, vip, "phone,tier,desk\n+15559990000,gold,client:new-desk\n")
	if changed, err := s.LoadFile(path); !changed || err != nil {
		t.Fatalf("table change: changed %v, err %v", changed, err)
	}
	if s.Current().Hash() == first {
		t.Error("the hash did not change with the table")
	}
	if d := s.Current().Decide(tableInput("+15559990000", "")); d.Rule != "vip" {
		t.Errorf("decided %q with the new table, want vip", d.Rule)
	}
	if got := testutil.ToFloat64(s.m.info.WithLabelValues(s.Current().Hash())); got != 1 {
		t.Errorf("assignd_policy_info{hash=%s} = %v", s.Current().Hash(), got)
	}
	_ = reg
}

func TestTablesAtomicReload(t *testing.T) {
	path := copyTables(t)
	dir := filepath.Dir(path)
	s, _ := newTestStore(t)
	if _, err := s.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	before := s.Current()
	// The policy drops a rule and vip.csv gains a row, but accounts.csv
	// breaks: nothing of the three may take effect.
	src, _ := os.ReadFile(path)
	writeFile(t, path, strings.Replace(string(src), "  - name: blocked\n", "  - name: blocked2\n", 1))
	writeFile(t, filepath.Join(dir, "vip.csv"), "phone,tier,desk\n+15551230000,gold,a\n+15557770000,gold,b\n")
	writeFile(t, filepath.Join(dir, "accounts.csv"), "account_id,tier,seats\nACME,enterprise,many\n")
	changed, err := s.LoadFile(path)
	if changed || err == nil || !strings.Contains(err.Error(), `accounts.csv:2: seats: "many" is not a number`) {
		t.Fatalf("changed %v, err %v", changed, err)
	}
	if s.Current() != before || s.Current().Rules()[0] != "blocked" {
		t.Error("a bad table let the new policy in")
	}
	if d := s.Current().Decide(tableInput("+15557770000", "")); d.Rule != "default" {
		t.Errorf("the new vip row took effect: %q", d.Rule)
	}
	// Fixing the table lets all three in at once.
	writeFile(t, filepath.Join(dir, "accounts.csv"), "account_id,tier,seats\nACME,enterprise,9\n")
	if changed, err := s.LoadFile(path); !changed || err != nil {
		t.Fatalf("changed %v, err %v", changed, err)
	}
	if s.Current().Rules()[0] != "blocked2" || s.Current().Decide(tableInput("+15557770000", "")).Rule != "vip" {
		t.Error("the fixed bundle did not take effect whole")
	}
}

func TestReloaderWatchesTableDirectories(t *testing.T) {
	root := t.TempDir()
	tables := filepath.Join(root, "tables")
	if err := os.Mkdir(tables, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "policy", "policy.yaml")
	if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(tables, "vip.csv"), "phone,desk\n+1,a\n")
	writeFile(t, path, "version: 1\ntables: {vip: {file: ../tables/vip.csv, key: phone}}\nrules:\n"+
		"  - name: vip\n    when: task.from IN tables.vip\n    instruction: accept\n  - name: d\n    instruction: accept\n")
	s, _ := newTestStore(t)
	if _, err := s.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	startReloader(t, s, path)
	writeFile(t, filepath.Join(tables, "vip.csv"), "phone,desk\n+1,a\n+2,b\n")
	waitFor(t, "the table change to reload", func() bool {
		return s.Current().Decide(tableInput("+2", "")).Rule == "vip"
	})
}

func TestDecideWithTablesAllocs(t *testing.T) {
	p, err := LoadFile("testdata/tables/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []*Input{tableInput("+15550000666", ""), tableInput("+15559990000", "SMALL")} {
		if allocs := testing.AllocsPerRun(200, func() { p.Decide(in) }); allocs != 0 {
			t.Errorf("Decide reading tables allocates %.0f times, want 0", allocs)
		}
	}
}

// BenchmarkDecideTables decides the tables example for a caller in no
// table's way: a hashed miss, a plain hit and a typed hit, then the
// catch-all.
func BenchmarkDecideTables(b *testing.B) {
	p, err := LoadFile("testdata/tables/policy.yaml")
	if err != nil {
		b.Fatal(err)
	}
	in := tableInput("+15559990000", "SMALL")
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(in)
	}
}
