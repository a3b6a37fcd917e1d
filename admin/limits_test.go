package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/assignd/assignd/explain"
	"github.com/assignd/assignd/policy"
)

// TestReloadRateLimited posts ten reloads at one instant of a fixed clock:
// the burst is reloaded, the rest answered 429 without running a reload.
func TestReloadRateLimited(t *testing.T) {
	calls := 0
	env := newTestServer(t, func(o *Options) {
		o.Reload = func(context.Context) error { calls++; return nil }
		o.Now = func() time.Time { return time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC) }
	})
	codes := map[int]int{}
	for range 10 {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9090/-/reload", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		rec := serve(env.srv.Handler(), req)
		codes[rec.Code]++
		if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
	}
	if calls != ReloadBurst || codes[http.StatusOK] != ReloadBurst || codes[http.StatusTooManyRequests] != 10-ReloadBurst {
		t.Errorf("10 reloads at once: %d ran, answers %v; want %d ran and the rest 429", calls, codes, ReloadBurst)
	}
}

// consoleWithRules is an admin Server whose policy has n rules and a
// console with a shadow summary function that counts its calls.
func consoleWithRules(tb testing.TB, n int, calls *int) http.Handler {
	tb.Helper()
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n")
	for i := range n - 1 {
		fmt.Fprintf(&b, "  - name: r%d\n    when: task.tier == \"t%d\"\n    instruction: accept\n", i, i)
	}
	fmt.Fprintf(&b, "  - name: r%d\n    instruction: accept\n", n-1)
	p, err := policy.Parse("many.yaml", []byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	store := newStore(tb, reg)
	store.Set(p)
	summaries := make(map[string]string, n)
	for i := range n {
		summaries[fmt.Sprintf("r%d", i)] = "same 1, other params 0, other instruction 0"
	}
	srv, err := New(Options{Store: store, Logger: zap.NewNop(), Console: &Console{Explain: explain.JSON, Decisions: NewDecisionLog(),
		Started: time.Now(), Shadow: func() map[string]string { *calls++; return summaries }}})
	if err != nil {
		tb.Fatal(err)
	}
	return srv.Handler()
}

// TestConsoleBuildsShadowSummariesOnce renders the console for 200 rules
// with a shadow: the summaries are built once for the page, not once per
// rule, and each rule shows its own.
func TestConsoleBuildsShadowSummariesOnce(t *testing.T) {
	calls := 0
	h := consoleWithRules(t, 200, &calls)
	rec := serve(h, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9090/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("console: %d", rec.Code)
	}
	if calls != 1 {
		t.Errorf("one page of 200 rules built the shadow summaries %d times, want once", calls)
	}
	if n := strings.Count(rec.Body.String(), "same 1, other params 0"); n != 200 {
		t.Errorf("%d rules show their shadow summary, want 200", n)
	}
}

// BenchmarkConsolePage renders the console with a shadow for growing
// policies: the time per page grows with the rules, linearly.
func BenchmarkConsolePage(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			calls := 0
			h := consoleWithRules(b, n, &calls)
			b.ReportAllocs()
			for b.Loop() {
				serve(h, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9090/", nil))
			}
		})
	}
}
