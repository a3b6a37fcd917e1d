package testkit

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// TestSignVectors checks Sign against the signatures Twilio's own helper
// library computed: a test signer that is wrong would make every signed
// test prove nothing.
func TestSignVectors(t *testing.T) {
	var raw []byte
	var err error
	for _, p := range []string{"../../../shared/vectors/signatures.json", "../../handlers/testdata/signatures.json"} {
		if raw, err = os.ReadFile(p); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("signature vectors are required: %v", err)
	}
	var file struct {
		Vectors []struct {
			Name      string            `json:"name"`
			URL       string            `json:"url"`
			Token     string            `json:"auth_token"`
			Params    map[string]string `json:"params"`
			Signature string            `json:"signature"`
			Valid     bool              `json:"valid"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range file.Vectors {
		if !v.Valid {
			continue
		}
		n++
		form := url.Values{}
		for k, val := range v.Params {
			form.Set(k, val)
		}
		if got := Sign(v.Token, v.URL, form); got != v.Signature {
			t.Errorf("%s: Sign = %s, want %s", v.Name, got, v.Signature)
		}
	}
	if n == 0 {
		t.Fatal("no valid vectors")
	}
}

func TestFreeAddr(t *testing.T) {
	addr := FreeAddr(t)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("FreeAddr = %q, want a 127.0.0.1 address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the free address cannot be bound: %v", err)
	}
	ln.Close()
}

func TestPolicySource(t *testing.T) {
	for _, n := range []int{1, 2, 10} {
		src := PolicySource(n)
		if got := strings.Count(src, "  - name: "); got != n {
			t.Errorf("PolicySource(%d) has %d rules:\n%s", n, got, src)
		}
		if !strings.HasSuffix(src, "  - name: default\n    instruction: dequeue\n    params: {from: \"+15005550006\", to: \"client:default\"}\n") {
			t.Errorf("PolicySource(%d) does not end with the catch-all:\n%s", n, src)
		}
		if n > 1 && !strings.Contains(src, fmt.Sprintf("name: r%d\n    when: task.language == \"l%d\"", n-2, n-2)) {
			t.Errorf("PolicySource(%d) lacks rule r%d:\n%s", n, n-2, src)
		}
	}
}

// recorder is a testing.TB that keeps what Golden reports instead of
// failing the test that checks Golden.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestGolden(t *testing.T) {
	const file = "x.txtar"
	a := txtar.Parse([]byte("comment\n-- in --\ninput\n-- out --\nline 1\n"))
	tests := []struct {
		name    string
		outputs []txtar.File
		want    string // substring of the one error; "" for none
	}{
		{"equal", []txtar.File{{Name: "out", Data: []byte("line 1\n")}}, ""},
		{"equal but for the final newline", []txtar.File{{Name: "out", Data: []byte("line 1")}}, ""},
		{"differs", []txtar.File{{Name: "out", Data: []byte("line 2\n")}}, "-- out -- differs from x.txtar"},
		{"extra newline", []txtar.File{{Name: "out", Data: []byte("line 1\n\n")}}, "-- out -- differs"},
		{"missing section", []txtar.File{{Name: "err", Data: []byte("")}}, "x.txtar has no -- err -- section"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			Golden(r, file, a, tt.outputs...)
			switch {
			case tt.want == "" && len(r.errors) > 0:
				t.Errorf("Golden reported %q, want nothing", r.errors)
			case tt.want != "" && (len(r.errors) != 1 || !strings.Contains(r.errors[0], tt.want)):
				t.Errorf("Golden reported %q, want one error with %q", r.errors, tt.want)
			}
		})
	}
}

// TestGoldenUpdate checks what -update writes: the comment and the input
// sections kept, outputs replaced in place or appended.
func TestGoldenUpdate(t *testing.T) {
	old := *update
	*update = true
	t.Cleanup(func() { *update = old })
	file := filepath.Join(t.TempDir(), "x.txtar")
	a := txtar.Parse([]byte("comment\n-- in --\ninput\n-- out --\nold\n-- after --\nkept\n"))
	Golden(t, file, a, txtar.File{Name: "out", Data: []byte("new")}, txtar.File{Name: "err", Data: nil})
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want := "comment\n-- in --\ninput\n-- out --\nnew\n-- after --\nkept\n-- err --\n"
	if string(got) != want {
		t.Errorf("-update wrote\n%s\nwant\n%s", got, want)
	}
}
