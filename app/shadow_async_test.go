package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/shadow"
)

// TestShadowNeverDelaysTheReply holds a 10,000-rule shadow before it
// decides and shows that live replies arrive complete meanwhile, and that
// what the shadow's queue cannot hold is dropped and counted, not waited
// for.
func TestShadowNeverDelaysTheReply(t *testing.T) {
	reg := prometheus.NewRegistry()
	liveStore, err := policy.NewStore(zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	shadowStore, err := policy.NewShadowStore(zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	for store, n := range map[*policy.Store]int{liveStore: 1, shadowStore: 10_000} {
		p, err := policy.Parse("policy.yaml", []byte(testkit.PolicySource(n)))
		if err != nil {
			t.Fatal(err)
		}
		store.Set(p)
	}
	held, release := make(chan struct{}, 3), make(chan struct{})
	ev, err := shadow.New(shadow.Options{Store: shadowStore, Logger: zap.NewNop(), Registerer: reg, Queue: 1,
		BeforeEvaluate: func() { held <- struct{}{}; <-release }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ev.Run(ctx)
	srv, err := handlers.New(handlers.Options{Store: liveStore, ShadowStore: shadowStore, Config: &config.Config{Dev: true},
		Registerer: reg, AfterDecision: ev.Observe})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	defer free() // before ts.Close, which waits for held handlers
	// The timeout only keeps a shadow that holds the reply from hanging
	// the test; it is no measure of speed.
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(label string) {
		t.Helper()
		resp, err := client.Post(ts.URL+handlers.AssignmentPath, "application/x-www-form-urlencoded",
			strings.NewReader(testkit.CallbackForm(`{"language":"none"}`).Encode()))
		if err != nil {
			t.Fatalf("%s: %v (the reply waited for the shadow)", label, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 || string(body) != testkit.CatchAllReply {
			t.Fatalf("%s: %d %s (%v), want 200 %s", label, resp.StatusCode, body, err, testkit.CatchAllReply)
		}
	}

	send("first callback")
	<-held // the shadow has the first callback and is held before deciding
	send("second callback, queued behind the held one")
	send("third callback, beyond the queue")
	if a := ev.Agreement(); a.SinceStart.Total != 0 || a.Dropped != 1 {
		t.Errorf("while the shadow is held: %d decided, %d dropped; want 0 and 1", a.SinceStart.Total, a.Dropped)
	}
	free()
	for deadline := time.Now().Add(30 * time.Second); ev.Agreement().SinceStart.Total < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if a := ev.Agreement(); a.SinceStart.Total != 2 || a.SinceStart.Same != 2 {
		t.Errorf("once released the shadow decided %+v, want the two kept callbacks, both the same", a.SinceStart)
	}
	if got := testkit.MetricSum(t, reg, "assignd_shadow_dropped_total", nil); got != 1 {
		t.Errorf("assignd_shadow_dropped_total = %v, want 1", got)
	}
}
