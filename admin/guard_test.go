package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/assignd/assignd/explain"
)

// TestAdminHostAndToken refuses a Host that is not an IP literal,
// localhost or a listed name with 421, before any handler runs (the DNS
// rebinding attack), and with a token set asks every endpoint but the
// probes, the scrape and the console's static files for it.
func TestAdminHostAndToken(t *testing.T) {
	env := newTestServer(t, func(o *Options) {
		o.Hosts = []string{"assignd-admin.ops.svc"}
		o.Token = "s3cret"
		o.Console = &Console{Explain: explain.JSON, Decisions: NewDecisionLog(), Started: time.Now()}
	})
	cases := []struct {
		name, method, host, path, auth string
		code                           int
		body                           string
	}{
		{"rebound name", "GET", "evil.example:9090", "/-/policy", "Bearer s3cret", 421, "not an admin host"},
		{"rebound name posts a reload", "POST", "evil.example", "/-/reload", "Bearer s3cret", 421, "not an admin host"},
		{"rebound name reads health", "GET", "evil.example", "/healthz", "", 421, "not an admin host"},
		{"IPv4 literal", "GET", "10.1.2.3:9090", "/healthz", "", 200, `"ok"`},
		{"IPv6 literal", "GET", "[::1]:9090", "/readyz", "", 200, `"ready"`},
		{"localhost", "GET", "localhost:9090", "/metrics", "", 200, ""},
		{"listed name", "GET", "Assignd-Admin.ops.svc.:9090", "/healthz", "", 200, `"ok"`},
		{"policy without token", "GET", "127.0.0.1", "/-/policy", "", 401, "admin token"},
		{"policy with a wrong token", "GET", "127.0.0.1", "/-/policy", "Bearer s3crex", 401, "admin token"},
		{"policy with the token", "GET", "127.0.0.1", "/-/policy", "Bearer s3cret", 200, `"hash"`},
		{"reload without token", "POST", "127.0.0.1", "/-/reload", "", 401, "admin token"},
		{"explain without token", "POST", "127.0.0.1", "/-/explain", "", 401, "admin token"},
		{"console without token asks for it", "GET", "127.0.0.1", "/", "", 401, `id="token-form"`},
		{"console with the token", "GET", "127.0.0.1", "/", "Bearer s3cret", 200, `id="try"`},
		{"console script", "GET", "127.0.0.1", "/console/console.js", "", 200, "sessionStorage"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, "http://"+c.host+c.path, strings.NewReader("{}"))
			req.Host = c.host
			req.Header.Set("Content-Type", "application/json")
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			rec := serve(env.srv.Handler(), req)
			if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.body) {
				t.Errorf("%s %s Host %s: %d %.200s\nwant %d containing %q", c.method, c.path, c.host, rec.Code, rec.Body, c.code, c.body)
			}
			if rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

// TestAdminNoTokenByDefault leaves every endpoint open to an allowed Host
// when no token is set.
func TestAdminNoTokenByDefault(t *testing.T) {
	env := newTestServer(t, nil)
	req := httptest.NewRequest("GET", "http://127.0.0.1:9090/-/policy", nil)
	if rec := serve(env.srv.Handler(), req); rec.Code != http.StatusOK {
		t.Errorf("GET /-/policy from 127.0.0.1 without a token configured: %d", rec.Code)
	}
}
