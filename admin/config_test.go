package admin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestConfigEndpoint: GET /-/config answers Options.Config as JSON, and
// only when it is set.
func TestConfigEndpoint(t *testing.T) {
	with := newTestServer(t, func(o *Options) {
		o.Config = func() any {
			return []map[string]string{{"name": "ASSIGND_DEV", "value": "true", "source": "environment"}}
		}
	})
	rec := serve(with.srv.Handler(), adminGet("/-/config"))
	if want := `[{"name":"ASSIGND_DEV","source":"environment","value":"true"}]`; rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != want {
		t.Errorf("GET /-/config = %d %s, want 200 %s", rec.Code, rec.Body, want)
	}
	without := newTestServer(t, nil)
	if rec := serve(without.srv.Handler(), adminGet("/-/config")); rec.Code != 404 {
		t.Errorf("GET /-/config without Options.Config = %d, want 404", rec.Code)
	}
}

// TestPolicyNeverLoaded: with a policy file that never loaded, GET
// /-/policy answers 503 with the load's problems, and the console shows
// them in its broken-file banner.
func TestPolicyNeverLoaded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("version: 1\nrules:\n  - name: x\n    instruction: teleport\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := newTestServer(t, func(o *Options) {
		o.Store = newStore(t, prometheus.NewRegistry())
		o.Console = &Console{Decisions: NewDecisionLog()}
	})
	if _, err := env.store.LoadFile(path); err == nil {
		t.Fatal("the bad policy loaded")
	}
	rec := serve(env.srv.Handler(), adminGet("/-/policy"))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"problems":[`) || !strings.Contains(rec.Body.String(), "teleport") {
		t.Errorf("GET /-/policy = %d %s, want 503 with the problems", rec.Code, rec.Body)
	}
	page := serve(env.srv.Handler(), adminGet("/")).Body.String()
	for _, want := range []string{"teleport", `id="banner-broken"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the console lacks %q", want)
		}
	}
}
