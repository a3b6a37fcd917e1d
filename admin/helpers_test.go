package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/assignd/assignd/policy"
)

// testPolicy is a small policy with a respond-mode rule and a catch-all.
const testPolicy = `version: 1
rules:
  - name: vip
    when: task.tier == "gold"
    instruction: call
    params: {from: "+15005550006", url: "https://ops.example.com/twiml?task={{callback.TaskSid}}", to: "{{worker.contact_uri}}"}
  - name: default
    instruction: accept
`

// testEnv is one admin Server under test and its policy store.
type testEnv struct {
	srv   *Server
	store *policy.Store
	reg   *prometheus.Registry
}

// newTestServer builds an admin Server over a store running testPolicy;
// edit changes the options before New.
func newTestServer(t *testing.T, edit func(*Options)) *testEnv {
	t.Helper()
	p, err := policy.Parse("test-policy.yaml", []byte(testPolicy))
	if err != nil {
		t.Fatalf("parsing test policy: %v", err)
	}
	reg := prometheus.NewRegistry()
	store := newStore(t, reg)
	store.Set(p)
	opts := Options{Store: store, Logger: zap.NewNop(), Gatherer: reg}
	if edit != nil {
		edit(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &testEnv{srv: srv, store: opts.Store, reg: reg}
}

// serve runs req through h and returns the recorded response.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// newStore is policy.NewStore for tests, which cannot go on without one.
func newStore(tb testing.TB, reg prometheus.Registerer) *policy.Store {
	tb.Helper()
	s, err := policy.NewStore(zap.NewNop(), reg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
