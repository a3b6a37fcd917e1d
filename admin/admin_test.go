package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestAdminEndpoints(t *testing.T) {
	env := newTestServer(t, nil)
	empty := newTestServer(t, func(o *Options) { o.Store = newStore(t, prometheus.NewRegistry()) })
	shuttingDown := newTestServer(t, func(o *Options) { o.Ready = func() (bool, string) { return false, "shutting down" } })
	hash := env.store.Current().Hash()

	tests := []struct {
		name string
		env  *testEnv
		path string
		code int
		body string
	}{
		{"healthz", env, "/healthz", 200, `{"status":"ok"}`},
		{"healthz without a policy", empty, "/healthz", 200, `{"status":"ok"}`},
		{"readyz", env, "/readyz", 200, `{"status":"ready","policy_hash":"` + hash + `"}`},
		{"readyz without a policy", empty, "/readyz", 503, `{"status":"not ready","reason":"no policy loaded"}`},
		{"unknown path", env, "/nope", 404, `{"error":"not found"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(tc.env.srv.Handler(), httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9090"+tc.path, nil))
			if rec.Code != tc.code || strings.TrimSpace(rec.Body.String()) != tc.body {
				t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body, tc.code, tc.body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}

	t.Run("readyz while shutting down", func(t *testing.T) {
		rec := serve(shuttingDown.srv.Handler(), httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9090/readyz", nil))
		if want := `{"status":"not ready","reason":"shutting down"}`; rec.Code != 503 || strings.TrimSpace(rec.Body.String()) != want {
			t.Errorf("got %d %s, want 503 %s", rec.Code, rec.Body, want)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		rec := serve(env.srv.Handler(), httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9090/metrics", nil))
		if rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
		body := rec.Body.String()
		// The Gatherer's metrics, the store's among them.
		for _, want := range []string{
			`assignd_policy_last_reload_successful`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}
