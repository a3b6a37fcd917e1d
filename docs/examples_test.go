package docs

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assignd/assignd/internal/testkit"
)

// root is the repository root, seen from this package's directory.
const root = ".."

// bin is the directory holding the assignd binary TestMain builds once.
var bin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "assignd-docs")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = dir
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "assignd"), ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building assignd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	stopServer()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The examples' conventions, each the HTML comment on the line before a
// fence:
//
//	<!-- file: NAME -->    the block is written as NAME into the page's
//	                       work directory before its examples run (a yaml
//	                       block so marked is also a policy snippet)
//	<!-- dir: PATH -->     the console block runs in PATH (from the
//	                       repository root) instead of the work directory
//	<!-- no-exec: WHY -->  the console block is not run (kubectl, a server
//	                       of one's own); WHY says why
//	<!-- partial: WHY -->  the yaml block is not a whole policy
//
// A console block is a sequence of "$ command" lines (continued by a
// trailing backslash) each followed by its output. Commands run under sh
// with the built assignd first on PATH; "echo $?" prints the previous
// command's exit code. A line "..." in a shown output stands for any lines;
// -update keeps an output that matches and replaces one that does not
// whole, ellipses included.

// normalizers turn what changes between runs and between policy versions
// into placeholders before outputs are compared: times, policy hashes,
// durations.
var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`), "<time>"},
	{regexp.MustCompile(`\b[0-9a-f]{12}\b`), "<hash>"},
	{regexp.MustCompile(`\b\d\.\d+e\+09\b`), "<unix-time>"},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|ms)\b`), "<duration>"},
	{regexp.MustCompile(`"decision_ns":\d+`), `"decision_ns":<n>`},
}

func normalize(s string) string {
	for _, n := range normalizers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// matches reports whether got is want, line by line after normalizing,
// where a want line "..." stands for any number of lines.
func matches(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if strings.TrimSpace(want[0]) == "..." {
		for i := 0; i <= len(got); i++ {
			if matches(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && normalize(strings.TrimRight(want[0], " \t")) == normalize(strings.TrimRight(got[0], " \t")) && matches(want[1:], got[1:])
}

// step is one command of a console block and the output shown below it.
type step struct {
	cmd       string
	outFrom   int // line index (in the page) of the first output line
	outTo     int // one past the last
	shown     []string
	continued bool
	firstLine int
}

func parseSteps(b block) []step {
	var steps []step
	for i := 0; i < len(b.lines); i++ {
		line := b.lines[i]
		if strings.HasPrefix(line, "$ ") {
			s := step{cmd: strings.TrimPrefix(line, "$ "), firstLine: b.start + i}
			for strings.HasSuffix(line, `\`) && i+1 < len(b.lines) {
				i++
				line = b.lines[i]
				s.cmd += "\n" + line
			}
			s.outFrom = b.start + i + 1
			s.outTo = s.outFrom
			steps = append(steps, s)
			continue
		}
		if len(steps) > 0 {
			last := &steps[len(steps)-1]
			last.shown = append(last.shown, line)
			last.outTo = b.start + i + 1
		}
	}
	return steps
}

// runnable commands: the built binary, curl against the dev server, and
// the exit code of the previous command.
var runnableRE = regexp.MustCompile(`^(assignd|curl) |^echo \$\?$`)

// server is the one dev-mode serve the examples' curl commands reach.
var server struct {
	once            sync.Once
	cmd             *exec.Cmd
	callback, admin string
	err             error
}

func startServer(t *testing.T) (callback, admin string) {
	t.Helper()
	server.once.Do(func() {
		server.callback, server.admin = testkit.FreeAddr(t), testkit.FreeAddr(t)
		cmd := exec.Command(filepath.Join(bin, "assignd"), "serve")
		cmd.Env = append(os.Environ(), "ASSIGND_DEV=true", "ASSIGND_LISTEN="+server.callback,
			"ASSIGND_ADMIN_LISTEN="+server.admin, "ASSIGND_POLICY_FILE=", "ASSIGND_LOG_LEVEL=warn",
			"ASSIGND_SHADOW_POLICY_FILE=", "ASSIGND_OVERRIDES_FILE=", "ASSIGND_DECISION_LOG=")
		if server.err = cmd.Start(); server.err != nil {
			return
		}
		server.cmd = cmd
		for i := 0; i < 200; i++ {
			resp, err := http.Get("http://" + server.admin + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
			time.Sleep(25 * time.Millisecond)
		}
		server.err = fmt.Errorf("dev-mode serve not ready on %s", server.admin)
	})
	if server.err != nil {
		t.Fatal(server.err)
	}
	return server.callback, server.admin
}

func stopServer() {
	if server.cmd != nil {
		server.cmd.Process.Signal(os.Interrupt) //nolint:errcheck // it may have gone
		server.cmd.Wait()                       //nolint:errcheck // its exit code is not the test's
	}
}

// run runs one command in dir and returns its combined output and exit
// code. A command that names 127.0.0.1 or localhost on :8080 or :9090
// reaches the dev-mode serve, started on first use, on its real ports.
func run(t *testing.T, dir, command string) (string, int) {
	t.Helper()
	if strings.Contains(command, ":8080") || strings.Contains(command, ":9090") {
		callback, admin := startServer(t)
		for _, host := range []string{"127.0.0.1", "localhost"} {
			command = strings.ReplaceAll(command, host+":8080", callback)
			command = strings.ReplaceAll(command, host+":9090", admin)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"ASSIGND_OVERRIDES_FILE=", "TZ=UTC")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %q: %v", command, err)
	}
	got := out.String()
	if server.admin != "" {
		got = strings.NewReplacer(server.admin, "127.0.0.1:9090", server.callback, "127.0.0.1:8080").Replace(got)
	}
	return strings.TrimRight(got, "\n"), code
}

// counts is what TestExamples covered, for its log line.
type counts struct{ blocks, run, skipped int }

// TestExamples runs every console example of the README and docs/ and
// compares its output with the one shown; with -update it rewrites them.
func TestExamples(t *testing.T) {
	var total counts
	for _, rel := range pages(t) {
		if strings.HasPrefix(rel, "docs/reference/") {
			continue
		}
		t.Run(rel, func(t *testing.T) {
			c := examplesOf(t, readPage(t, rel))
			total.blocks += c.blocks
			total.run += c.run
			total.skipped += c.skipped
		})
	}
	t.Logf("%d console blocks run (%d commands), %d not run (no-exec)", total.blocks, total.run, total.skipped)
}

func examplesOf(t *testing.T, p *page) counts {
	var c counts
	work := p.workDir(t)
	changed := false
	// Later edits shift lines; walk the blocks backwards so that earlier
	// indexes stay valid.
	for bi := len(p.blocks) - 1; bi >= 0; bi-- {
		b := p.blocks[bi]
		if b.lang != "console" {
			for i, line := range b.lines {
				if strings.HasPrefix(line, "$ assignd") || strings.HasPrefix(line, "$ curl") || strings.HasPrefix(line, "assignd ") {
					t.Errorf("%s:%d: a shell example outside a console block: make the block ```console", p.path, b.start+i+1)
				}
			}
			continue
		}
		if why, ok := b.markerValue("no-exec"); ok {
			if why == "" {
				t.Errorf("%s:%d: no-exec needs a reason", p.path, b.start)
			}
			c.skipped++
			continue
		}
		dir := work
		if d, ok := b.markerValue("dir"); ok {
			dir = filepath.Join(root, d)
		}
		c.blocks++
		steps := parseSteps(b)
		outs := make([]string, len(steps))
		last := 0
		for i, s := range steps {
			if !runnableRE.MatchString(s.cmd) {
				t.Errorf("%s:%d: %q is neither assignd, curl nor echo $?: mark the block <!-- no-exec: why -->", p.path, s.firstLine+1, s.cmd)
				continue
			}
			if s.cmd == "echo $?" {
				outs[i] = fmt.Sprint(last)
			} else {
				outs[i], last = run(t, dir, s.cmd)
			}
			c.run++
		}
		for i := len(steps) - 1; i >= 0; i-- {
			s := steps[i]
			got := strings.Split(outs[i], "\n")
			if outs[i] == "" {
				got = nil
			}
			if matches(s.shown, got) {
				continue
			}
			if testkit.Updating() {
				p.lines = append(p.lines[:s.outFrom], append(append([]string(nil), got...), p.lines[s.outTo:]...)...)
				changed = true
				continue
			}
			t.Errorf("%s:%d: $ %s\nshown:\n%s\ngot:\n%s", p.path, s.firstLine+1, s.cmd, strings.Join(s.shown, "\n"), outs[i])
		}
	}
	if changed {
		p.write(t)
	}
	return c
}
