package table

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parse(t *testing.T, spec Spec, src string) *Table {
	t.Helper()
	if spec.File == "" {
		spec.File = "t.csv"
	}
	tb, err := Parse(spec, []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tb
}

func TestLookups(t *testing.T) {
	tb := parse(t, Spec{Name: "accounts", Key: "id", Columns: map[string]Type{"seats": Number}},
		"\uFEFFid,tier,seats\r\nA1,gold,120\r\n\r\n42,silver,\r\n\"B,2\",\"bronze \"\"x\"\"\",3.5\r\n")
	if tb.Rows() != 3 {
		t.Fatalf("rows = %d, want 3", tb.Rows())
	}
	tier, typ, ok := tb.Column("tier")
	if !ok || typ != String {
		t.Fatalf("Column(tier) = %v %v", typ, ok)
	}
	seats, typ, ok := tb.Column("seats")
	if !ok || typ != Number {
		t.Fatalf("Column(seats) = %v %v", typ, ok)
	}
	if _, _, ok := tb.Column("nope"); ok {
		t.Error("Column(nope) found")
	}
	for _, tc := range []struct {
		key    string
		tier   string
		seats  float64
		hasNum bool
	}{{"A1", "gold", 120, true}, {"42", "silver", 0, false}, {"B,2", `bronze "x"`, 3.5, true}} {
		row, ok := tb.Find(tc.key)
		if !ok {
			t.Errorf("Find(%q) missed", tc.key)
			continue
		}
		if got := tb.Text(row, tier); got != tc.tier {
			t.Errorf("%s tier = %q, want %q", tc.key, got, tc.tier)
		}
		if n, ok := tb.Number(row, seats); ok != tc.hasNum || n != tc.seats && ok {
			t.Errorf("%s seats = %v %v, want %v %v", tc.key, n, ok, tc.seats, tc.hasNum)
		}
	}
	if _, ok := tb.Find("a1"); ok {
		t.Error("Find(a1) hit: keys are case-sensitive")
	}
	if row, ok := tb.FindNumber(42); !ok || tb.Text(row, tier) != "silver" {
		t.Error("FindNumber(42) missed")
	}
	if _, ok := tb.FindNumber(42.5); ok {
		t.Error("FindNumber(42.5) hit")
	}
}

func TestHashedKeys(t *testing.T) {
	src := "number_sha256,reason\n" + HashValue("+15551230000") + ",fraud\n" + strings.ToUpper(HashValue("+15559990000")) + ",spam\n"
	tb := parse(t, Spec{Name: "blocked", Key: "number_sha256", Hashed: true}, src)
	reason, _, _ := tb.Column("reason")
	if row, ok := tb.Find("+15551230000"); !ok || tb.Text(row, reason) != "fraud" {
		t.Errorf("Find(+15551230000) = %v", ok)
	}
	if _, ok := tb.Find("+15559990000"); !ok {
		t.Error("upper-case digest missed")
	}
	if _, ok := tb.Find(HashValue("+15551230000")); ok {
		t.Error("the digest itself must not be a key")
	}
	if _, _, ok := tb.Column("number_sha256"); ok {
		t.Error("the key column of a hashed table must not be readable")
	}
	long := strings.Repeat("x", 1000)
	tb = parse(t, Spec{Name: "b", Key: "k", Hashed: true}, "k\n"+HashValue(long)+"\n"+HashValue("7")+"\n")
	if _, ok := tb.Find(long); !ok {
		t.Error("long key missed")
	}
	if _, ok := tb.FindNumber(7); !ok {
		t.Error("FindNumber(7) missed in a hashed table")
	}
}

func TestMalformed(t *testing.T) {
	digest := HashValue("x")
	for _, tc := range []struct {
		name, src string
		spec      Spec
		want      string
	}{
		{"empty", "", Spec{Key: "k"}, "t.csv:1: empty file: the first line must name the columns"},
		{"bom only", "\uFEFF", Spec{Key: "k"}, "t.csv:1: empty file"},
		{"missing key column", "a,b\n1,2\n", Spec{Key: "k"}, "t.csv:1: k: missing key column: the header has a, b"},
		{"undeclared column", "k,a\n1,2\n", Spec{Key: "k", Columns: map[string]Type{"z": Number}}, "t.csv:1: z: declared in columns but not in the header"},
		{"bad column name", "k,a b\n", Spec{Key: "k"}, `t.csv:1: a b: not a usable column name`},
		{"column twice", "k,a,a\n", Spec{Key: "k"}, "t.csv:1: a: column named twice"},
		{"number key", "k\n1\n", Spec{Key: "k", Columns: map[string]Type{"k": Number}}, "t.csv:1: k: the key column is always a string"},
		{"duplicate key", "k,a\nx,1\r\n\r\ny,2\nx,3\n", Spec{Key: "k"}, "t.csv:5: k: duplicate key: first on line 2"},
		{"duplicate digest", "k\n" + digest + "\n" + strings.ToUpper(digest) + "\n", Spec{Key: "k", Hashed: true}, "t.csv:3: k: duplicate key: the same digest is on line 2"},
		{"empty key", "k,a\n,1\n", Spec{Key: "k"}, "t.csv:2: k: empty key"},
		{"not a digest", "k\n+15551230000\n", Spec{Key: "k", Hashed: true}, "t.csv:2: k: not a hex SHA-256"},
		{"wrong type", "k,n\nx,12\ny,lots\n", Spec{Key: "k", Columns: map[string]Type{"n": Number}}, `t.csv:3: n: "lots" is not a number`},
		{"infinite", "k,n\nx,1e999\n", Spec{Key: "k", Columns: map[string]Type{"n": Number}}, `t.csv:2: n: "1e999" is not a number`},
		{"nan", "k,n\nx,NaN\n", Spec{Key: "k", Columns: map[string]Type{"n": Number}}, `t.csv:2: n: "NaN" is not a number`},
		{"field count", "k,a\nx,1\ny\n", Spec{Key: "k"}, "t.csv:3: wrong number of fields: the header has 2"},
		{"bare quote", "k,a\nx,1\ny,ab\"c\n", Spec{Key: "k"}, "t.csv:3: bad CSV quoting at character 5: bare \" in non-quoted-field"},
		{"unclosed quote", "k,a\nx,\"1\n", Spec{Key: "k"}, "t.csv:2: bad CSV quoting at character 6: extraneous or missing \" in quoted-field"},
		{"quote in header", "k,\"a\n", Spec{Key: "k"}, "t.csv:1: bad CSV quoting"},
		{"size limit", "k\nx\n", Spec{Key: "k", MaxBytes: 3}, "t.csv: larger than the limit of 3 bytes (ASSIGND_MAX_TABLE_BYTES)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.File = "t.csv"
			_, err := Parse(tc.spec, []byte(tc.src))
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err =\n%v\nwant prefix\n%s", err, tc.want)
			}
		})
	}
}

func TestManyProblemsStop(t *testing.T) {
	src := "k,n\n" + strings.Repeat("x,bad\n", 100)
	_, err := Parse(Spec{File: "t.csv", Key: "k", Columns: map[string]Type{"n": Number}}, []byte(src))
	var te *Error
	if !errors.As(err, &te) || len(te.Problems) != maxProblems+1 {
		t.Fatalf("err = %v", err)
	}
	if last := te.Problems[maxProblems].String(); last != "t.csv: stopped after 20 problems" {
		t.Errorf("last problem = %q", last)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vip.csv")
	if err := os.WriteFile(path, []byte("phone,desk\n+15551230000,gold\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tb, err := Load(Spec{Name: "vip", File: path, Key: "phone"})
	if err != nil || tb.Rows() != 1 || tb.Name() != "vip" || tb.File() != path || tb.Key() != "phone" || len(tb.Hash()) != 12 {
		t.Fatalf("Load = %+v, %v", tb, err)
	}
	if _, err := Load(Spec{Name: "vip", File: path, Key: "phone", MaxBytes: 10}); err == nil || !strings.Contains(err.Error(), "larger than the limit of 10 bytes") {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := Load(Spec{Name: "vip", File: dir, Key: "phone"}); err == nil || !strings.Contains(err.Error(), "is a directory, not a regular file") {
		t.Errorf("directory: %v", err)
	}
	if _, err := Load(Spec{Name: "vip", File: filepath.Join(dir, "none.csv"), Key: "phone"}); err == nil || !strings.Contains(err.Error(), `reading table "vip"`) {
		t.Errorf("missing: %v", err)
	}
}

func TestHashCSV(t *testing.T) {
	var out bytes.Buffer
	err := HashCSV(&out, strings.NewReader("\uFEFFname,number\r\nann,+15551230000\r\n\r\nbob,\"+1555,999\"\r\n"), "in.csv", "number")
	if err != nil {
		t.Fatal(err)
	}
	want := "name,number\nann," + HashValue("+15551230000") + "\nbob," + HashValue("+1555,999") + "\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	tb := parse(t, Spec{Key: "number", Hashed: true}, out.String())
	if _, ok := tb.Find("+1555,999"); !ok {
		t.Error("a hashed file does not load as a hashed table")
	}
	for _, tc := range []struct{ src, col, want string }{
		{"a,b\n1,2\n", "c", "in.csv:1: c: no such column: the header has a, b"},
		{"a,b\n,2\n", "", "in.csv:2: a: empty value"},
		{"a,b\n1\n", "", "in.csv:2: wrong number of fields"},
		{"a\n\"x\n", "", "in.csv:2: bad CSV quoting"},
		{"", "", "in.csv:1: empty file"},
	} {
		err := HashCSV(&bytes.Buffer{}, strings.NewReader(tc.src), "in.csv", tc.col)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("HashCSV(%q) = %v, want %s", tc.src, err, tc.want)
		}
	}
}

func TestLookupAllocs(t *testing.T) {
	plain := parse(t, Spec{Key: "k"}, "k,v\n+15551230000,a\n42,b\n")
	hashed := parse(t, Spec{Key: "k", Hashed: true}, "k,v\n"+HashValue("+15551230000")+",a\n")
	v, _, _ := plain.Column("v")
	for name, f := range map[string]func(){
		"plain":         func() { r, _ := plain.Find("+15551230000"); _ = plain.Text(r, v) },
		"plain number":  func() { plain.FindNumber(42) },
		"hashed":        func() { hashed.Find("+15551230000") },
		"hashed number": func() { hashed.FindNumber(42) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per lookup, want 0", name, n)
		}
	}
}
