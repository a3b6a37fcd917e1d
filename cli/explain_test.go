package cli

import (
	"bytes"
	"io"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/internal/buildinfo"
	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/policy"
)

// TestCLIGolden runs validate, explain, test and table as a user would and pins their
// whole output and exit code. Each testdata/cli/*.txtar archive holds
//
//	args: validate testdata/cli/bad.yaml
//	stdin: (optional) one line fed to standard input
//	env: (optional, repeatable) NAME=value set for the run, every other
//	     variable assignd reads unset
//	-- exit --
//	1
//	-- stdout --
//	...
//	-- stderr --
//	...
//
// go test -run TestCLIGolden -update rewrites the three sections.
func TestCLIGolden(t *testing.T) {
	buildinfo.Version, buildinfo.Revision, buildinfo.Date = "v1.2.3", "0123456789abcdef", "2026-01-02T03:04:05Z"
	t.Cleanup(func() { buildinfo.Version, buildinfo.Revision, buildinfo.Date = "", "", "" })
	for _, file := range testkit.Archives(t, "testdata/cli") {
		t.Run(testkit.Name(file), func(t *testing.T) {
			a := testkit.ReadArchive(t, file)
			for _, v := range config.Vars() {
				t.Setenv(v.Name, "")
				os.Unsetenv(v.Name)
			}
			var args, secrets []string
			var stdin string
			for _, line := range strings.Split(strings.TrimSpace(string(a.Comment)), "\n") {
				switch {
				case strings.HasPrefix(line, "args: "):
					args = splitArgs(t, strings.TrimPrefix(line, "args: "))
				case strings.HasPrefix(line, "stdin: "):
					stdin = strings.TrimPrefix(line, "stdin: ") + "\n"
				case strings.HasPrefix(line, "env: "):
					k, v, _ := strings.Cut(strings.TrimPrefix(line, "env: "), "=")
					t.Setenv(k, v)
					if slices.ContainsFunc(config.Vars(), func(cv config.Var) bool { return cv.Name == k && cv.Secret }) {
						secrets = append(secrets, v)
					}
					if u, err := url.Parse(v); err == nil && u.User != nil {
						pw, _ := u.User.Password()
						secrets = append(secrets, pw)
					}
				}
			}
			if len(args) == 0 {
				t.Fatal("no args: line")
			}
			var stdout, stderr bytes.Buffer
			code := runGolden(t, args, strings.NewReader(stdin), &stdout, &stderr)
			for _, secret := range secrets {
				if strings.Contains(stdout.String()+stderr.String(), secret) {
					t.Errorf("a secret's value is in the output")
				}
			}
			// The toolchain's version is the machine's, not the golden file's.
			out := bytes.ReplaceAll(stdout.Bytes(), []byte(runtime.Version()), []byte("GOVERSION"))
			stdout.Reset()
			stdout.Write(out)
			testkit.Golden(t, file, a,
				txtar.File{Name: "exit", Data: []byte(strconv.Itoa(code) + "\n")},
				txtar.File{Name: "stdout", Data: stdout.Bytes()},
				txtar.File{Name: "stderr", Data: stderr.Bytes()})
		})
	}
}

// runGolden runs the command a golden file names.
func runGolden(t *testing.T, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch args[0] {
	case "validate":
		return Validate(args[1:], stdin, stdout, stderr)
	case "explain":
		return Explain(args[1:], stdin, stdout, stderr)
	case "test":
		return RunTests(args[1:], stdin, stdout, stderr)
	case "calendar":
		return Calendar(args[1:], stdout, stderr)
	case "table":
		return Table(args[1:], stdout, stderr)
	case "config":
		return Config(args[1:], stdout, stderr)
	case "version":
		return Version(args[1:], stdout, stderr)
	case "serve":
		_, code, _ := ServeFlags(args[1:], stdout, stderr)
		return code
	}
	t.Fatalf("unknown subcommand %q", args[0])
	return 0
}

// splitArgs splits on spaces, keeping single-quoted stretches whole, which
// is all the golden files need for JSON arguments.
func splitArgs(t *testing.T, s string) []string {
	var out []string
	var cur strings.Builder
	quoted, inArg := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted, inArg = !quoted, true
		case r == ' ' && !quoted:
			if inArg {
				out = append(out, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if inArg {
		out = append(out, cur.String())
	}
	return out
}

// TestExplainNeverPrintsSecrets runs explain on a rule with a SIP password in
// both formats: the password must not appear anywhere, and the mask must,
// in the parameters and in the REST form alike.
func TestExplainNeverPrintsSecrets(t *testing.T) {
	t.Setenv("ASSIGND_POLICY_FILE", "")
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Explain([]string{"-policy", "testdata/cli/sip.yaml", "-format", format,
				"-task", "{}", "-worker", `{"contact_uri":"sip:alice@example.com"}`}, strings.NewReader(""), &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			out := stdout.String() + stderr.String()
			if strings.Contains(out, "hunter2") {
				t.Errorf("the password is printed:\n%s", out)
			}
			want := map[string]int{"text": 1, "json": 2}[format] // text shows only the form
			if n := strings.Count(out, policy.RedactedValue); n != want {
				t.Errorf("%q appears %d times, want %d:\n%s", policy.RedactedValue, n, want, out)
			}
		})
	}
}

// TestExplainCallbackServeLimits feeds explain bodies that serve refuses:
// explain must refuse each with serve's message, so that what explain
// accepts, serve accepts.
func TestExplainCallbackServeLimits(t *testing.T) {
	t.Setenv("ASSIGND_POLICY_FILE", "")
	good, err := os.ReadFile("testdata/cli/callback.form")
	if err != nil {
		t.Fatal(err)
	}
	good = bytes.TrimRight(good, "\n")
	tests := []struct {
		name string
		body string
		want string // in stderr; empty: accepted
	}{
		{"captured body with a line end", string(good) + "\r\n", ""},
		{"body over the limit", string(good) + "&Pad=" + strings.Repeat("x", callback.MaxBodyBytes),
			"body is larger than " + strconv.Itoa(callback.MaxBodyBytes) + " bytes"},
		{"too many fields", string(good) + strings.Repeat("&x=1", callback.MaxFormFields),
			"more than " + strconv.Itoa(callback.MaxFormFields) + " fields"},
		{"field name too long", string(good) + "&" + strings.Repeat("N", callback.MaxFieldNameBytes+1) + "=1",
			"a field name is longer than " + strconv.Itoa(callback.MaxFieldNameBytes) + " bytes"},
		{"field without a name", string(good) + "&=orphan", "a field has no name"},
		{"repeated field", string(good) + "&TaskAge=7", `TaskAge: field is given more than once`},
		{"semicolon separator", string(good) + ";x=1", "invalid semicolon separator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Explain([]string{"-policy", "testdata/cli/example.yaml", "-now", "2026-11-28T15:00:00Z", "-callback", "-"},
				strings.NewReader(tt.body), &stdout, &stderr)
			if tt.want == "" {
				if code != 0 {
					t.Fatalf("exit %d, want 0: %s", code, stderr.String())
				}
				return
			}
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
}
