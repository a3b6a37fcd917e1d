package admin

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assignd/assignd/internal/metric"
)

// get fetches path from the admin listener and returns the body.
func get(t *testing.T, base, path string) string {
	t.Helper()
	res, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d: %s", path, res.StatusCode, b)
	}
	return string(b)
}

// section returns the element with id from page, up to its closing tag,
// for checking one panel at a time.
func section(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("page has no #%s", id)
	}
	j := strings.Index(page[i:], "</section>")
	if j < 0 {
		j = len(page) - i
	}
	return page[i : i+j]
}

func TestConsolePanelsWithTraffic(t *testing.T) {
	env := newFullEnv(t)
	env.run(t, 5)
	page := get(t, env.admin.URL, "/")
	for _, tc := range []struct {
		panel string
		has   []string
	}{
		{"pod", []string{"assignd-7d9f8c6b5-x2k4q", "v1.4.0-test", "1h15m0s", env.policy.Hash()}},
		{"panel-rules", []string{`data-rule="vip"`, `class="spark"`, `class="accepted"`, "accepted ", "same ("}},
		{"panel-edge", []string{`id="edge-signature">1<`, `id="edge-malformed">1<`, `<th scope="row">403</th>`, `<th scope="row">applied</th>`}},
		{"panel-shadow", []string{"shadow.yaml", `id="shadow-agreement"`, `<th scope="row" data-label="Live rule">digital</th>`}},
		{"panel-calendars", []string{"support", "America/New_York"}},
		{"panel-tables", []string{"vip", "vip.csv", `data-label="Rows">2<`}},
		{"panel-experiments", []string{"ring-order", "longest-idle", "%–"}},
		{"panel-decisionlog", []string{"collector.example.com", "healthy", "18234"}},
		{"panel-recent", []string{"WR000000", `<option>digital</option>`, `<option>accept</option>`}},
	} {
		got := section(t, page, tc.panel)
		for _, want := range tc.has {
			if !strings.Contains(got, want) {
				t.Errorf("#%s lacks %q:\n%s", tc.panel, want, got)
			}
		}
	}
	// The edge panel's queue depth reads the updater's gauge.
	if !regexp.MustCompile(`id="edge-queue">\d+<`).MatchString(page) {
		t.Errorf("no queue depth in the edge panel:\n%s", section(t, page, "panel-edge"))
	}
	if strings.Contains(page, "banner-broken") || strings.Contains(page, "banner-example") {
		t.Error("a banner shows with a good policy file")
	}
}

// TestConsoleSparkline checks that the sparkline has one point per minute
// and that its heights follow the counts, the newest minute last.
func TestConsoleSparkline(t *testing.T) {
	env := newConsoleEnv(t, "")
	now := time.Date(2026, 12, 2, 10, 30, 20, 0, time.UTC)
	l := env.decisions
	for m, n := range map[int]int{0: 4, 1: 2, 59: 1, 60: 9} { // minutes ago: decisions
		for range n {
			l.Observe(decided("default", now.Add(-time.Duration(m)*time.Minute)))
		}
	}
	counts := l.PerMinute("default", now)
	if counts[Minutes-1] != 4 || counts[Minutes-2] != 2 || counts[0] != 1 {
		t.Fatalf("per minute %v", counts)
	}
	s := newSparkline(counts[:])
	points := strings.Fields(s.Points)
	if len(points) != Minutes {
		t.Fatalf("%d points, want %d", len(points), Minutes)
	}
	if points[Minutes-1] != "118,2.0" || points[Minutes-2] != "116,12.0" || points[1] != "2,22.0" {
		t.Errorf("points %v", points)
	}
	if s.Max != 4 || s.Total != 7 || s.Last != 4 {
		t.Errorf("max %d total %d last %d", s.Max, s.Total, s.Last)
	}
}

func TestConsoleFilter(t *testing.T) {
	env := newFullEnv(t)
	env.run(t, 2)
	all := strings.Count(section(t, get(t, env.admin.URL, "/"), "recent"), "<tr><td")
	page := get(t, env.admin.URL, "/?rule=vip&instruction=dequeue")
	rows := section(t, page, "recent")
	n := strings.Count(rows, "<tr><td")
	if n == 0 || n >= all || strings.Count(rows, `data-label="Rule">vip<`) != n {
		t.Errorf("filtered to %d of %d rows, want only vip's:\n%s", n, all, rows)
	}
	if !strings.Contains(page, `<option selected>vip</option>`) || !strings.Contains(page, "Show all") {
		t.Error("the filter form does not show the filter")
	}
	if none := section(t, get(t, env.admin.URL, "/?rule=vip&instruction=accept"), "recent"); !strings.Contains(none, "No recent callback matches.") {
		t.Errorf("an empty filter result:\n%s", none)
	}
}

func TestConsoleNotConfigured(t *testing.T) {
	page := getPage(t, newConsoleEnv(t, ""))
	for _, tc := range []struct{ panel, want string }{
		{"panel-shadow", "Not configured"},
		{"panel-calendars", "no calendars"},
		{"panel-tables", "no tables"},
		{"panel-experiments", "Not configured"},
		{"panel-decisionlog", "Not configured"},
		{"pod-version", "not configured"},
	} {
		if got := section(t, page, tc.panel); !strings.Contains(got, tc.want) {
			t.Errorf("#%s lacks %q:\n%s", tc.panel, tc.want, got)
		}
	}
	if !strings.Contains(page, `id="banner-example"`) {
		t.Error("no banner for the example policy")
	}
}

func TestConsoleBanners(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status ConsoleStatus
		want   []string
		absent []string
	}{
		{"broken file", ConsoleStatus{BrokenFile: "/etc/assignd/policy.yaml", Problems: []string{"policy.yaml:4: rules[0].when: unknown field"}},
			[]string{"banner-broken", "/etc/assignd/policy.yaml does not load", "rules[0].when: unknown field"}, []string{"banner-example"}},
		{"example", ConsoleStatus{Example: true}, []string{"banner-example", "ASSIGND_POLICY_FILE"}, []string{"banner-broken"}},
		{"neither", ConsoleStatus{}, nil, []string{"banner-broken", "banner-example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestServer(t, func(o *Options) {
				o.Console = &Console{Decisions: NewDecisionLog(), Status: func() ConsoleStatus { return tc.status }}
			})
			rec := serve(env.srv.Handler(), httptestGet("/"))
			for _, w := range tc.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(rec.Body.String(), a) {
					t.Errorf("page has %q", a)
				}
			}
		})
	}
}

func TestReadEdge(t *testing.T) {
	reg := prometheus.NewRegistry()
	calls := metric.CounterVec(metricCallbacks, "h", "code")
	sig := metric.Counter(metricSigFailures, "h")
	upd := metric.CounterVec(metricUpdates, "h", "instruction", "outcome")
	reg.MustRegister(calls, sig, upd)
	calls.WithLabelValues("200").Add(40)
	calls.WithLabelValues("400").Add(3)
	calls.WithLabelValues("403").Add(2)
	sig.Add(2)
	upd.WithLabelValues("dequeue", "applied").Add(5)
	upd.WithLabelValues("conference", "applied").Add(1)
	upd.WithLabelValues("dequeue", "gone").Add(1)
	e := readEdge(reg)
	if !e.Configured || e.Answered != 45 || e.OK != 40 || e.NotOK != 5 || e.Malformed != 3 || e.SignatureFails != 2 || e.HasQueue {
		t.Errorf("edge %+v", e)
	}
	if len(e.Updates) != 2 || e.Updates[0] != (labelled{"applied", 6}) || e.Updates[1] != (labelled{"gone", 1}) {
		t.Errorf("updates %+v", e.Updates)
	}
	if e := readEdge(nil); e.Configured {
		t.Error("no gatherer reads as configured")
	}
}
