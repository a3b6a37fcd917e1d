package handlers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/policy"
)

// testPolicy exercises a respond-mode call with templates, an update-mode
// conference (conference defaults to update), and a catch-all accept.
const testPolicy = `version: 1
rules:
  - name: vip
    when: task.tier == "gold"
    instruction: call
    params: {from: "+15005550006", url: "https://ops.example.com/twiml?task={{callback.TaskSid}}", to: "{{worker.contact_uri}}"}
  - name: conf
    when: task.type == "conference"
    instruction: conference
    params: {from: "+15005550006"}
  - name: default
    instruction: accept
`

const (
	testToken     = "0123456789abcdef0123456789abcdef"
	testTokenNext = "fedcba9876543210fedcba9876543210"
)

// testClock is the fixed time every test server sees.
var testClock = time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)

// testEnv is one Server under test and what it was built with.
type testEnv struct {
	srv   *Server
	reg   *prometheus.Registry
	store *policy.Store
	cfg   *config.Config
}

// newTestServer builds a Server running testPolicy, checking signatures
// with testToken; edit changes the options before New.
func newTestServer(t *testing.T, edit func(*Options)) *testEnv {
	t.Helper()
	p, err := policy.Parse("test-policy.yaml", []byte(testPolicy))
	if err != nil {
		t.Fatalf("parsing test policy: %v", err)
	}
	reg := prometheus.NewRegistry()
	store := newStore(t, reg)
	store.Set(p)
	cfg := &config.Config{AuthToken: testToken}
	opts := Options{
		Store:      store,
		Config:     cfg,
		Logger:     zap.NewNop(),
		Registerer: reg,
		Now:        func() time.Time { return testClock },
	}
	if edit != nil {
		edit(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &testEnv{srv: srv, reg: reg, store: opts.Store, cfg: opts.Config}
}

// callbackForm returns a complete, valid assignment callback with the given
// task attributes JSON.
func callbackForm(taskAttrs string) url.Values { return testkit.CallbackForm(taskAttrs) }

// signedRequest is a POST of form to target (a full URL), signed for the
// same URL with token.
func signedRequest(token, target string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(callback.SignatureHeader, testkit.Sign(token, target, form))
	return req
}

// serve runs req through h and returns the recorded response.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// metricValue returns the value of the counter (or histogram sample count)
// name with exactly the given labels, or -1 if there is none.
func metricValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue next
				}
			}
			return sampleValue(m)
		}
	}
	return -1
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	}
	return -1
}

func readBody(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return string(b)
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

// TestMetricsExistFromStart: the listener's series, with their known label
// values, are there to scrape before any callback arrives.
func TestMetricsExistFromStart(t *testing.T) {
	env := newTestServer(t, nil)
	for _, m := range []struct {
		name   string
		labels map[string]string
	}{
		{"assignd_callbacks_total", map[string]string{"code": "200"}},
		{"assignd_callbacks_total", map[string]string{"code": "403"}},
		{"assignd_signature_failures_total", nil},
		{"assignd_callback_duration_seconds", nil},
		{"assignd_decision_duration_seconds", nil},
	} {
		if got := metricValue(t, env.reg, m.name, m.labels); got != 0 {
			t.Errorf("%s%v = %v before any callback, want 0", m.name, m.labels, got)
		}
	}
}
