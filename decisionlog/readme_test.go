package decisionlog

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestREADMEShowsRealOutput: the README's decision log section shows the
// fourth record of testdata/replay/decisions.jsonl, the outcome record of
// testdata/outcome.txtar and the replay outputs pinned beside them, as
// they are.
func TestREADMEShowsRealOutput(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Decision log\n")
	if !ok {
		t.Fatal("README has no Decision log section")
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
	for _, golden := range []string{"candidate_reads_masked", "candidate_reads_no_masked", "deciding_policy"} {
		b, err := os.ReadFile("testdata/replay/" + golden + ".golden")
		if err != nil {
			t.Fatal(err)
		}
		out, _, _ := strings.Cut(string(b), "--- stderr")
		want = append(want, strings.ReplaceAll(out, "decisionlog/testdata/replay/", ""))
	}
	for _, w := range want {
		if !strings.Contains(section, w) {
			t.Errorf("the README's Decision log section does not show:\n%s", w)
		}
	}
}
