package handlers

import (
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/policy"
)

// TestShadowSeesWhatItReads checks that the Input handed to observers
// holds every attribute key the shadow policy reads, not only the live
// policy's: the handler decodes only what is read, and a shadow reading a
// key the live policy does not would otherwise decide on a NULL.
func TestShadowSeesWhatItReads(t *testing.T) {
	shadowPolicy, err := policy.Parse("shadow.yaml", []byte(`version: 1
rules:
  - name: by-region
    when: task.region == "emea" AND worker.team == "blue"
    instruction: accept
  - name: default
    instruction: accept
`))
	if err != nil {
		t.Fatal(err)
	}
	shadowStore := newStore(t, prometheus.NewRegistry())
	var (
		got     []string
		shadows []*policy.Policy
	)
	observe := func(o *Options) {
		o.AfterDecision = func(d *callback.Decided) {
			got = append(got, shadowStore.Current().Decide(d.Input).Rule)
			shadows = append(shadows, d.Shadow)
		}
	}
	post := func(env *testEnv) {
		t.Helper()
		ts := httptest.NewServer(env.srv.Handler())
		defer ts.Close()
		form := callbackForm(`{"tier":"silver","region":"emea"}`)
		form.Set("WorkerAttributes", `{"team":"blue"}`)
		resp, err := ts.Client().Do(signedRequestTo(t, testToken, ts.URL+AssignmentPath, form))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	// Without a shadow store, only the live policy's keys are read.
	shadowStore.Set(shadowPolicy)
	post(newTestServer(t, observe))
	post(newTestServer(t, func(o *Options) { observe(o); o.ShadowStore = shadowStore }))
	want := []string{"default", "by-region"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("shadow decided %q, want %q", got, want)
	}
	// Decided names the shadow policy the input was decoded for.
	if len(shadows) != 2 || shadows[0] != nil || shadows[1] != shadowPolicy {
		t.Errorf("Decided.Shadow = %p, want nil then %p", shadows, shadowPolicy)
	}
}
