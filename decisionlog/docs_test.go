package decisionlog

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestDocsShowRealOutput: the decision log section of docs/policy.md shows the
// fourth record of testdata/replay/decisions.jsonl and the outcome record
// of testdata/outcome.txtar as they are. (The replays of that log it shows
// are run by the docs package's TestExamples.)
func TestDocsShowRealOutput(t *testing.T) {
	raw, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Decision log\n")
	if !ok {
		t.Fatal("docs/policy.md has no Decision log section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	log, err := os.ReadFile("testdata/replay/decisions.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, bytes.Split(log, []byte("\n"))[3], "", "  "); err != nil {
		t.Fatal(err)
	}
	outcome, err := os.ReadFile("testdata/outcome.txtar")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(outcome)), "\n")
	want := []string{pretty.String(), lines[len(lines)-1]}
	for _, w := range want {
		if !strings.Contains(section, w) {
			t.Errorf("the Decision log section of docs/policy.md does not show:\n%s", w)
		}
	}
}
