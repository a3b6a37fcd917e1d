package cli

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assignd/assignd/policy"
)

// TestTestJUnit writes the JUnit report of a run with passing and failing
// cases and a file that does not load, and reads it back as a CI system would.
func TestTestJUnit(t *testing.T) {
	out := filepath.Join(t.TempDir(), "junit.xml")
	var stdout, stderr bytes.Buffer
	code := RunTests([]string{"-junit", out, "testdata/cli/tests/failing_test.yaml", "testdata/cli/tests/bad/no-policy_test.yaml", "testdata/cli/tests/secret_test.yaml"}, nil, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit %d, want 2 (a file did not load)\n%s%s", code, stdout.String(), stderr.String())
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "hunter2") {
		t.Errorf("the SIP password is in the JUnit report:\n%s", raw)
	}
	var got struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Line    int    `xml:"line,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Text string `xml:",chardata"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &got); err != nil {
		t.Fatalf("not XML: %v\n%s", err, raw)
	}
	if got.Tests != 7 || got.Failures != 5 || got.Errors != 1 || len(got.Suites) != 3 {
		t.Fatalf("tests=%d failures=%d errors=%d suites=%d, want 7, 5, 1, 3", got.Tests, got.Failures, got.Errors, len(got.Suites))
	}
	first := got.Suites[0]
	if first.Name != "testdata/cli/tests/failing_test.yaml" || len(first.Cases) != 5 {
		t.Fatalf("first suite %q with %d cases", first.Name, len(first.Cases))
	}
	if c := first.Cases[0]; c.Failure != nil || c.Line != 5 {
		t.Errorf("case %q: line %d, failure %v; want line 5, passed", c.Name, c.Line, c.Failure)
	}
	c := first.Cases[1]
	if c.Failure == nil || c.Line != 9 || c.Failure.Message != `rule: expected "vip-spanish", got "default"` ||
		!strings.Contains(c.Failure.Text, `#2  vip-spanish     not matched  task.language == "es" is false (task.language is "fr")`) {
		t.Errorf("case %q at line %d: failure %+v", c.Name, c.Line, c.Failure)
	}
	if e := got.Suites[1].Cases[0].Error; e == nil || !strings.Contains(e.Text, "no-policy_test.yaml:1: policy: reading policy") {
		t.Errorf("the file that did not load: error %+v", e)
	}
}

// TestTestNeverPrintsSecrets fails a case on a SIP password, verbose: the
// password must appear nowhere in the output.
func TestTestNeverPrintsSecrets(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := RunTests([]string{"-v", "testdata/cli/tests/secret_test.yaml", "testdata/cli/tests/dir"}, nil, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, stdout.String(), stderr.String())
	}
	if out := stdout.String() + stderr.String(); strings.Contains(out, "hunter2") {
		t.Errorf("the password is printed:\n%s", out)
	}
}

// TestSchemaCommand checks that assignd schema prints policy.Schema, and
// refuses arguments.
func TestSchemaCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Schema(nil, &stdout, &stderr); code != 0 || !bytes.Equal(stdout.Bytes(), policy.Schema()) {
		t.Errorf("exit %d, output equal to policy.Schema: %t", code, bytes.Equal(stdout.Bytes(), policy.Schema()))
	}
	if code := Schema([]string{"x"}, &stdout, &stderr); code != 2 {
		t.Errorf("with an argument: exit %d, want 2", code)
	}
}
