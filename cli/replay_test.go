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
