package handlers

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

func TestAdminEndpoints(t *testing.T) {
	env := newTestServer(t, nil)
	empty := newTestServer(t, func(o *Options) { o.Store = newStore(t, prometheus.NewRegistry()) })
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
			rec := serve(tc.env.srv.Admin(), httptest.NewRequest(http.MethodGet, tc.path, nil))
			if rec.Code != tc.code || strings.TrimSpace(rec.Body.String()) != tc.body {
				t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body, tc.code, tc.body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}

	t.Run("readyz while shutting down", func(t *testing.T) {
		env := newTestServer(t, nil)
		env.srv.SetShuttingDown()
		rec := serve(env.srv.Admin(), httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if want := `{"status":"not ready","reason":"shutting down"}`; rec.Code != 503 || strings.TrimSpace(rec.Body.String()) != want {
			t.Errorf("got %d %s, want 503 %s", rec.Code, rec.Body, want)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		rec := serve(env.srv.Admin(), httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
		body := rec.Body.String()
		// Known label values are scraped from the start, before any callback.
		for _, want := range []string{
			`assignd_callbacks_total{code="200"} 0`,
			`assignd_callbacks_total{code="403"} 0`,
			`assignd_signature_failures_total 0`,
			`assignd_callback_duration_seconds_bucket{le="5"} 0`,
			`assignd_decision_duration_seconds_count 0`,
			`assignd_policy_last_reload_successful`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}

// TestShutdown shows the order of a graceful shutdown: readiness turns 503
// at once, the listener stops taking connections, and a callback already in
// flight still gets its 200.
func TestShutdown(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	env := newTestServer(t, func(o *Options) {
		o.beforeDecide = func() {
			close(entered)
			<-release
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer(ln.Addr().String(), env.srv.Callback(), zap.NewNop())
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	target := "http://" + ln.Addr().String() + AssignmentPath
	type result struct {
		code int
		body string
		err  error
	}
	inflight := make(chan result, 1)
	req := signedRequestTo(t, testToken, target, callbackForm(`{}`))
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		inflight <- result{code: resp.StatusCode, body: string(b), err: err}
	}()
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("callback never reached Decide")
	}

	// SIGTERM: what the app's stop does.
	env.srv.SetShuttingDown()
	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdown <- hs.Shutdown(ctx)
	}()

	rec := serve(env.srv.Admin(), httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz during shutdown: %d %s", rec.Code, rec.Body)
	}
	// The listener closes promptly; wait for it, then show new connections fail.
	if err := <-served; err != http.ErrServerClosed {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Errorf("new connection accepted during shutdown")
	}
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned (%v) with a callback in flight", err)
	default:
	}

	close(release)
	r := <-inflight
	if r.err != nil || r.code != 200 || r.body != `{"instruction":"accept"}` {
		t.Fatalf("in-flight callback: %d %q %v", r.code, r.body, r.err)
	}
	if err := <-shutdown; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}
