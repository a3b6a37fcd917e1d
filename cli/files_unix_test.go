//go:build unix

package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runBounded runs a command and fails the test if it has not returned
// within a minute: reading a FIFO with no writer would block for ever.
func runBounded(t *testing.T, run func(stdout, stderr io.Writer) int) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(&stdout, &stderr) }()
	select {
	case code := <-done:
		return code, stdout.String() + stderr.String()
	case <-time.After(time.Minute):
		t.Fatalf("the command did not return: it is blocked reading")
		return 0, ""
	}
}

// TestCLIRefusesSpecialFiles gives test, its callback_file and replay a
// FIFO and /dev/zero: each is refused as not a regular file, with the
// policy loader's message, before anything is read from it.
func TestCLIRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	policyFile, err := filepath.Abs("testdata/cli/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	testWith := func(callbackFile string) string {
		p := filepath.Join(dir, strings.NewReplacer("/", "_").Replace(callbackFile)+"_test.yaml")
		src := "policy: " + policyFile + "\ncases:\n  - name: captured\n    callback_file: " + callbackFile + "\n    expect: {instruction: accept}\n"
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name string
		run  func(stdout, stderr io.Writer) int
		want string
	}{
		{"test file FIFO", func(o, e io.Writer) int { return RunTests([]string{fifo}, nil, o, e) }, "is a named pipe (FIFO), not a regular file"},
		{"test file device", func(o, e io.Writer) int { return RunTests([]string{"/dev/zero"}, nil, o, e) }, `"/dev/zero" is a device, not a regular file`},
		{"callback_file FIFO", func(o, e io.Writer) int { return RunTests([]string{testWith(fifo)}, nil, o, e) }, "is a named pipe (FIFO), not a regular file"},
		{"callback_file device", func(o, e io.Writer) int { return RunTests([]string{testWith("/dev/zero")}, nil, o, e) }, `"/dev/zero" is a device, not a regular file`},
		{"replay FIFO", func(o, e io.Writer) int {
			return Replay([]string{"-policy", policyFile, "-candidate", policyFile, fifo}, o, e)
		}, "is a named pipe (FIFO), not a regular file"},
		{"replay device", func(o, e io.Writer) int {
			return Replay([]string{"-policy", policyFile, "-candidate", policyFile, "/dev/zero"}, o, e)
		}, `"/dev/zero" is a device, not a regular file`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := runBounded(t, c.run)
			if code != 2 || !strings.Contains(out, c.want) {
				t.Errorf("exit %d, output:\n%s\nwant exit 2 and %q", code, out, c.want)
			}
		})
	}
}

// TestCLITestFileSizeLimit refuses a test file over the policy loader's
// limit without reading past it.
func TestCLITestFileSizeLimit(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big_test.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), (1<<20)/10+1), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := runBounded(t, func(o, e io.Writer) int { return RunTests([]string{big}, nil, o, e) })
	if code != 2 || !strings.Contains(out, "is larger than the limit of 1 MiB") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}
