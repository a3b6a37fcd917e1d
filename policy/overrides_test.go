package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
)

// TestOverridesStoreKeepsLastGood loads, reloads and refuses overrides
// files: a bad file leaves the running overrides in force, and an
// override applies from its start until it expires.
func TestOverridesStoreKeepsLastGood(t *testing.T) {
	p := mustParse(t, calendarPolicy)
	dir := t.TempDir()
	path := filepath.Join(dir, "overrides.yaml")
	reg := prometheus.NewRegistry()
	s, err := NewOverridesStore(zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return mustTime(t, "2026-12-03T12:00:00Z") }
	write := func(src string) {
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rule := func(at string) string {
		return p.Decide(&Input{Now: mustTime(t, at), Overrides: s.Current()}).Rule
	}
	write(`overrides:
  - {calendar: support, state: closed, reason: Storm closure, until: "2026-12-03T18:00:00-05:00"}
  - {calendar: support, state: closed, reason: Old, from: "2026-11-01T00:00:00Z", until: "2026-11-02T00:00:00Z"}
`)
	if changed, err := s.LoadFile(path); !changed || err != nil {
		t.Fatalf("first load: %v, %v", changed, err)
	}
	if got := testutil.ToFloat64(s.m.ended); got != 1 {
		t.Errorf("ended gauge %v, want 1", got)
	}
	if r := rule("2026-12-03T15:00:00Z"); r != "override" {
		t.Errorf("during the closure: %q", r)
	}
	if r := rule("2026-12-03T23:30:00Z"); r != "open-hours" {
		t.Errorf("after it expired: %q", r)
	}
	if changed, err := s.LoadFile(path); changed || err != nil {
		t.Errorf("unchanged file: %v, %v", changed, err)
	}
	write(`overrides:
  - {calendar: support, state: open, until: "2026-12-30T00:00:00Z"}
`)
	_, err = s.LoadFile(path)
	if err == nil || !strings.Contains(err.Error(), "overrides.yaml:2") || !strings.Contains(err.Error(), "at most 7 days") {
		t.Fatalf("bad file: %v", err)
	}
	if r := rule("2026-12-03T15:00:00Z"); r != "override" {
		t.Errorf("a bad file displaced the running overrides: %q", r)
	}
	if got := testutil.ToFloat64(s.m.lastOK); got != 0 {
		t.Errorf("last_reload_successful %v after a failure", got)
	}
	write(`overrides: []`)
	if changed, err := s.LoadFile(path); !changed || err != nil {
		t.Fatalf("reload: %v, %v", changed, err)
	}
	if r := rule("2026-12-03T15:00:00Z"); r != "open-hours" {
		t.Errorf("after the reload: %q", r)
	}
}

func TestCheckOverridesUnknownCalendar(t *testing.T) {
	p := mustParse(t, calendarPolicy)
	path := filepath.Join(t.TempDir(), "ov.yaml")
	os.WriteFile(path, []byte("overrides:\n  - {calendar: sales, state: open, until: \"2026-12-04T00:00:00Z\"}\n"), 0o644)
	ov, _, err := LoadOverrides(path, mustTime(t, "2026-12-03T12:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	problems := CheckOverrides(p, ov)
	if len(problems) != 1 || problems[0].Line != 2 || !strings.Contains(problems[0].String(), `unknown calendar "sales"`) {
		t.Errorf("problems %v", problems)
	}
}

func TestCalendarCollector(t *testing.T) {
	p := mustParse(t, calendarPolicy)
	c := NewCalendarCollector(func() *Policy { return p }, nil)
	c.now = func() time.Time { return mustTime(t, "2026-03-09T12:30:00Z") }
	want := `# HELP assignd_calendar_open 1 if the calendar is open now (overrides, holidays and hours applied), 0 if not; evaluated at scrape.
# TYPE assignd_calendar_open gauge
assignd_calendar_open{calendar="support"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	c.now = func() time.Time { return mustTime(t, "2026-12-25T15:00:00Z") }
	if err := testutil.CollectAndCompare(c, strings.NewReader(strings.Replace(want, "} 1", "} 0", 1))); err != nil {
		t.Error(err)
	}
}

// TestOverridesReloader reloads the overrides through the policy's
// Reloader loop, on request and on a file change.
func TestOverridesReloader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "overrides.yaml")
	os.WriteFile(path, []byte("overrides: []\n"), 0o644)
	reg := prometheus.NewRegistry()
	s, err := NewOverridesStore(zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewOverridesReloader(s, path, zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	r.Debounce = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	if err := r.Reload(ctx); err != nil || s.Current() == nil {
		t.Fatalf("Reload: %v, current %v", err, s.Current())
	}
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	os.WriteFile(path, []byte("overrides:\n  - {calendar: support, state: closed, until: \""+until+"\"}\n"), 0o644)
	deadline := time.Now().Add(10 * time.Second)
	for len(s.Current().All()) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the file change was not reloaded")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
