package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/assignd/assignd/internal/testkit"
)

// TestReplay runs replay over captured callbacks: a directory of bodies
// and a debug log, each pinned by a golden output.
func TestReplay(t *testing.T) {
	const live, cand = "testdata/replay/live.yaml", "testdata/replay/candidate.yaml"
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"directory", []string{"-now", "2026-11-30T15:00:00Z", "testdata/replay/callbacks"}, 0},
		{"log", []string{"testdata/replay/assignd.log"}, 0},
		{"log json", []string{"-format", "json", "testdata/replay/assignd.log"}, 0},
		{"fail on change", []string{"-fail-on-change", "testdata/replay/assignd.log"}, 1},
		{"no change", []string{"-fail-on-change", "-policy", live, "-candidate", live, "testdata/replay/assignd.log"}, 0},
		{"missing source", []string{"testdata/replay/nothing-here"}, 2},
		{"bad candidate", []string{"-candidate", "testdata/replay/callbacks/WR1.form", "testdata/replay/assignd.log"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Later flags win, so a case may name other policies.
			args := append([]string{"-policy", live, "-candidate", cand}, tc.args...)
			var stdout, stderr bytes.Buffer
			code := Replay(args, &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			file := filepath.Join("testdata/replay", strings.ReplaceAll(tc.name, " ", "_")+".txtar")
			testkit.Golden(t, file, testkit.ReadArchive(t, file),
				txtar.File{Name: "stdout", Data: stdout.Bytes()},
				txtar.File{Name: "stderr", Data: stderr.Bytes()})
		})
	}
}

// TestReplayDecisionLog replays a decision log written by serve with
// ASSIGND_DECISION_LOG: without -policy, since each record names its
// decision, with candidates that read a masked field or not, and with the
// policy that decided it, which must decide every record the same.
func TestReplayDecisionLog(t *testing.T) {
	const dir = "testdata/replay/declog"
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"candidate reads masked", []string{"-candidate", dir + "/candidate.yaml", dir + "/decisions.jsonl"}, 0},
		{"candidate reads no masked", []string{"-candidate", dir + "/candidate-no-from.yaml", dir + "/decisions.jsonl"}, 0},
		{"deciding policy", []string{"-fail-on-change", "-candidate", dir + "/live.yaml", dir + "/decisions.jsonl"}, 0},
		{"json", []string{"-format", "json", "-candidate", dir + "/candidate.yaml", dir + "/decisions.jsonl"}, 0},
		{"callbacks need policy", []string{"-candidate", dir + "/candidate.yaml", "testdata/replay/callbacks"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Replay(tc.args, &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".txtar")
			testkit.Golden(t, file, testkit.ReadArchive(t, file),
				txtar.File{Name: "stdout", Data: stdout.Bytes()},
				txtar.File{Name: "stderr", Data: stderr.Bytes()})
		})
	}
}
