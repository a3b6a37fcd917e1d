package handlers

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/assignd/assignd/internal/httpserver"
)

// TestShutdown shows the callback listener's part in a graceful shutdown:
// the listener stops taking connections, and a callback already in
// flight still gets its 200.
func TestShutdown(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	env := newTestServer(t, func(o *Options) {
		o.BeforeDecide = func() {
			close(entered)
			<-release
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := httpserver.New(ln.Addr().String(), env.srv.Handler(), zap.NewNop(), httpserver.Default)
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

	// SIGTERM: what the app's Stop does once readiness is 503.
	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdown <- hs.Shutdown(ctx)
	}()

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
