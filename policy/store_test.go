package policy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

const goodA = "version: 1\nrules:\n  - name: a\n    instruction: accept\n"
const goodB = "version: 1\nrules:\n  - name: b\n    instruction: accept\n"
const bad = "version: 1\nrules:\n  - name: broken\n    when: task.x ==\n    instruction: accept\n"

func newTestStore(t *testing.T) (*Store, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := NewStore(zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	return s, reg
}

func ruleOf(s *Store) string {
	if p := s.Current(); p != nil {
		return p.Rules()[0]
	}
	return ""
}

func TestStoreGoodBadGood(t *testing.T) {
	s, _ := newTestStore(t)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	steps := []struct {
		name, src   string
		wantErr     bool
		wantChanged bool
		wantRule    string
		wantOK      float64
		wantFails   float64
	}{
		{"first good", goodA, false, true, "a", 1, 0},
		{"bad keeps the good one", bad, true, false, "a", 0, 1},
		{"good again", goodB, false, true, "b", 1, 1},
		{"unchanged is a no-op", goodB, false, false, "b", 1, 1},
		{"bad again", bad, true, false, "b", 0, 2},
		{"rolled back to the running content", goodB, false, false, "b", 1, 2},
	}
	for _, st := range steps {
		if err := os.WriteFile(path, []byte(st.src), 0o644); err != nil {
			t.Fatal(err)
		}
		changed, err := s.LoadFile(path)
		if (err != nil) != st.wantErr || changed != st.wantChanged {
			t.Fatalf("%s: LoadFile = %v, %v; want changed %v, error %v", st.name, changed, err, st.wantChanged, st.wantErr)
		}
		if got := ruleOf(s); got != st.wantRule {
			t.Errorf("%s: running rule %q, want %q", st.name, got, st.wantRule)
		}
		if got := testutil.ToFloat64(s.m.lastOK); got != st.wantOK {
			t.Errorf("%s: last_reload_successful = %v, want %v", st.name, got, st.wantOK)
		}
		if got := testutil.ToFloat64(s.m.reloads.WithLabelValues("failure")); got != st.wantFails {
			t.Errorf("%s: failures = %v, want %v", st.name, got, st.wantFails)
		}
	}
	if got := testutil.ToFloat64(s.m.info.WithLabelValues(s.Current().Hash())); got != 1 {
		t.Errorf("policy_info for the running hash = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(s.m.info); n != 1 {
		t.Errorf("policy_info has %d series, want only the running policy's", n)
	}
	if s.LoadedAt().IsZero() || testutil.ToFloat64(s.m.lastOKSeconds) == 0 {
		t.Error("load time not recorded")
	}
}

func TestStoreMissingFileKeepsPolicy(t *testing.T) {
	s, _ := newTestStore(t)
	s.Set(mustParse(t, goodA))
	if _, err := s.LoadFile(filepath.Join(t.TempDir(), "nope.yaml")); err == nil || !strings.Contains(err.Error(), "reading policy") {
		t.Fatalf("LoadFile of a missing file = %v, want a reading error", err)
	}
	if ruleOf(s) != "a" {
		t.Error("a missing file displaced the running policy")
	}
}

// waitFor polls until cond holds; reloads are asynchronous by design.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startReloader(t *testing.T, s *Store, path string) *Reloader {
	t.Helper()
	return startReloaderWith(t, s, path, zap.NewNop(), nil)
}

// startReloaderWith is startReloader with a logger and, when watch is not
// nil, a watch seam.
func startReloaderWith(t *testing.T, s *Store, path string, log *zap.Logger, watch func(string) (*fsnotify.Watcher, error)) *Reloader {
	t.Helper()
	r, err := NewReloader(s, path, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	r.Debounce = 20 * time.Millisecond
	if watch != nil {
		r.Watch = watch
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	// Run has started watching, or failed to, once it answers a request.
	rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer rcancel()
	if err := r.Reload(rctx); err != nil {
		t.Fatalf("first reload: %v", err)
	}
	return r
}

// TestReloaderConfigMapSwap mimics how the kubelet updates a ConfigMap
// volume: the file is a symlink through ..data, and an update writes a new
// timestamped directory and atomically renames a new ..data link over the
// old one.
func TestReloaderConfigMapSwap(t *testing.T) {
	dir := t.TempDir()
	writeVersion := func(name, src string) {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "policy.yaml"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(name, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	writeVersion("..2026_11_28_10_00_00.1", goodA)
	path := filepath.Join(dir, "policy.yaml")
	if err := os.Symlink("..data/policy.yaml", path); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestStore(t)
	if _, err := s.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	startReloader(t, s, path)

	writeVersion("..2026_11_28_10_01_00.2", bad)
	waitFor(t, "the bad version to be tried", func() bool { return testutil.ToFloat64(s.m.lastOK) == 0 })
	if ruleOf(s) != "a" {
		t.Fatal("bad ConfigMap version displaced the running policy")
	}
	writeVersion("..2026_11_28_10_02_00.3", goodB)
	waitFor(t, "the good version after a bad one", func() bool { return ruleOf(s) == "b" })
	if testutil.ToFloat64(s.m.lastOK) != 1 {
		t.Error("last_reload_successful not back to 1")
	}
}

func TestReloaderTriggers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(goodA), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestStore(t)
	r := startReloader(t, s, path)
	if ruleOf(s) != "a" {
		t.Fatal("first reload did not load")
	}

	// Reload (the admin endpoint) answers the error and keeps the policy.
	// The watcher may try the bad file first; it still differs from the
	// running policy, so Reload parses it again and fails again.
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	err := r.Reload(context.Background())
	if err == nil {
		t.Fatal("Reload of a bad file returned no error")
	}
	if !strings.Contains(err.Error(), `rule "broken" (#1): when:`) {
		t.Errorf("Reload error does not locate the problem: %v", err)
	}
	if ruleOf(s) != "a" {
		t.Fatal("bad file displaced the running policy")
	}

	// Trigger (SIGHUP) loads without waiting.
	if err := os.WriteFile(path, []byte(goodB), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Trigger()
	waitFor(t, "Trigger to load the good file", func() bool { return ruleOf(s) == "b" })
}

// TestReloaderWatchFailure: a watch that cannot be set up is logged at
// error and counted, and Trigger (SIGHUP) and Reload (POST /-/reload) still
// load the file.
func TestReloaderWatchFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(goodA), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestStore(t)
	core, logs := observer.New(zap.InfoLevel)
	failed := errors.New("too many open files")
	r := startReloaderWith(t, s, path, zap.New(core), func(string) (*fsnotify.Watcher, error) { return nil, failed })
	if ruleOf(s) != "a" {
		t.Fatal("first reload did not load")
	}
	lines := logs.FilterMessageSnippet("policy watch failed").FilterLevelExact(zap.ErrorLevel).All()
	if len(lines) != 1 || !strings.Contains(lines[0].ContextMap()["error"].(string), failed.Error()) {
		t.Errorf("watch failure logged as %v, want one error line with the cause", lines)
	}
	if got := testutil.ToFloat64(r.watchErrors); got != 1 {
		t.Errorf("assignd_policy_watch_errors_total = %v, want 1", got)
	}

	if err := os.WriteFile(path, []byte(goodB), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Trigger()
	waitFor(t, "Trigger to load without a watch", func() bool { return ruleOf(s) == "b" })

	if err := os.WriteFile(path, []byte(goodA), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(context.Background()); err != nil || ruleOf(s) != "a" {
		t.Fatalf("Reload without a watch: %v, rule %q, want rule a", err, ruleOf(s))
	}
}

// TestNewStoreErrors: a missing dependency or a clash of metrics is an
// error from the constructor, not a panic.
func TestNewStoreErrors(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := NewStore(zap.NewNop(), reg); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		log  *zap.Logger
		reg  prometheus.Registerer
		want string
	}{
		{"no logger", nil, prometheus.NewRegistry(), "no logger"},
		{"no registerer", zap.NewNop(), nil, "no prometheus registerer"},
		{"registered twice", zap.NewNop(), reg, "registering policy metrics"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewStore(tt.log, tt.reg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewStore = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	s, _ := NewStore(zap.NewNop(), prometheus.NewRegistry())
	if _, err := NewReloader(s, "p.yaml", zap.NewNop(), nil); err == nil || !strings.Contains(err.Error(), "no prometheus registerer") {
		t.Errorf("NewReloader without a registerer = %v", err)
	}
}

// FuzzParse feeds arbitrary files to the loader: it may reject them, with
// located problems, but must not panic, and what it accepts must decide.
func FuzzParse(f *testing.F) {
	f.Add([]byte(goodA))
	f.Add([]byte(bad))
	f.Add(Example())
	f.Add([]byte(calendarPolicy))
	f.Add([]byte("version: 1\nrules: [{name: a, instruction: call, params: {from: '+15005550006', url: 'https://x.example/?a={{task.a}}'}}, {name: b, instruction: accept}]\n"))
	f.Add([]byte("version: 1\ndefaults: &d {mode: update}\nrules:\n  - &r {name: a, instruction: accept}\n  - *r\n"))
	f.Add([]byte("version: 1\nexperiments:\n  e: {key: '{{task.a}}-{{callback.TaskSid}}', arms: {c: 60, t: 40}, salt: s}\nrules: [{name: a, when: experiment.e == 't', instruction: accept}, {name: b, instruction: accept}]\n"))
	f.Add([]byte("version: 1\ndecision_log: {mask: [task.from, worker.contact_uri], drop: [callback.X]}\nrules: [{name: b, instruction: accept}]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse("fuzz.yaml", src)
		if err != nil {
			if le, ok := err.(*LoadError); !ok || len(le.Problems) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			return
		}
		p.DecisionLog()
		d := p.Decide(&Input{Task: map[string]any{"a": "x"}})
		if d.Rule == "" || (d.Mode == Respond && d.JSON == nil) {
			t.Fatalf("accepted policy made an empty decision: %+v", d)
		}
	})
}
