package handlers

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
)

// The X-Twilio-Signature vectors were computed with Twilio's own Node.js
// library. Their home is shared/vectors, which CI places beside the
// repository; testdata holds a copy so that a lone clone runs them too, and
// the test fails if the two differ.
const (
	sharedVectors = "../../shared/vectors/signatures.json"
	localVectors  = "testdata/signatures.json"
)

type vector struct {
	Name      string            `json:"name"`
	URL       string            `json:"url"`
	AuthToken string            `json:"auth_token"`
	Params    map[string]string `json:"params"`
	Signature string            `json:"signature"`
	Valid     bool              `json:"valid"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile(localVectors)
	if err != nil {
		t.Fatalf("signature vectors are required: %v", err)
	}
	switch shared, err := os.ReadFile(sharedVectors); {
	case err == nil && !bytes.Equal(shared, b):
		t.Fatalf("%s differs from %s: copy it over", localVectors, sharedVectors)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		t.Fatalf("reading %s: %v", sharedVectors, err)
	}
	var f struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("reading %s: %v", localVectors, err)
	}
	if len(f.Vectors) == 0 {
		t.Fatalf("%s holds no vectors", localVectors)
	}
	return f.Vectors
}

// split cuts a vector's URL into the public base (scheme, host, prefix) and
// the request target below the service root.
func (v vector) split(t *testing.T) (base *url.URL, target string) {
	t.Helper()
	u, err := url.Parse(v.URL)
	if err != nil {
		t.Fatalf("vector %q: %v", v.Name, err)
	}
	prefix, ok := strings.CutSuffix(u.Path, AssignmentPath)
	if !ok {
		t.Fatalf("vector %q: path %q does not end in %s", v.Name, u.Path, AssignmentPath)
	}
	base = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: prefix}
	target = AssignmentPath
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	return base, target
}

func (v vector) form() url.Values {
	f := url.Values{}
	for k, val := range v.Params {
		f.Set(k, val)
	}
	return f
}

func (v vector) wantCode() int {
	if v.Valid {
		return http.StatusOK
	}
	return http.StatusForbidden
}

func formRequest(target string, form url.Values, sig string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(callback.SignatureHeader, sig)
	return req
}

// TestSignatureVectors sends every vector through the real callback handler
// in each of the three ways the signed URL can be rebuilt.
func TestSignatureVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		base, target := v.split(t)
		t.Run(v.Name+"/public base URL", func(t *testing.T) {
			env := newTestServer(t, func(o *Options) {
				o.Config = &config.Config{AuthToken: v.AuthToken, PublicBaseURL: base.String()}
			})
			// The ingress has stripped the prefix and terminated TLS.
			req := formRequest("http://assignd.svc.cluster.local:8080"+target, v.form(), v.Signature)
			rec := serve(env.srv.Handler(), req)
			if rec.Code != v.wantCode() {
				t.Fatalf("status %d, want %d; body %s", rec.Code, v.wantCode(), rec.Body)
			}
		})
		t.Run(v.Name+"/forwarded headers", func(t *testing.T) {
			env := newTestServer(t, func(o *Options) {
				o.Config = &config.Config{AuthToken: v.AuthToken, TrustForwarded: true}
			})
			req := formRequest("http://10.1.2.3:8080"+target, v.form(), v.Signature)
			req.Header.Set("X-Forwarded-Proto", base.Scheme)
			req.Header.Set("X-Forwarded-Host", base.Host)
			if base.Path != "" {
				req.Header.Set("X-Forwarded-Prefix", base.Path)
			}
			rec := serve(env.srv.Handler(), req)
			if rec.Code != v.wantCode() {
				t.Fatalf("status %d, want %d; body %s", rec.Code, v.wantCode(), rec.Body)
			}
		})
		if base.Path != "" {
			continue // a prefix is invisible without a base URL or headers
		}
		t.Run(v.Name+"/own scheme and host", func(t *testing.T) {
			env := newTestServer(t, func(o *Options) {
				o.Config = &config.Config{AuthToken: v.AuthToken}
			})
			req := formRequest(base.Scheme+"://"+base.Host+target, v.form(), v.Signature)
			if base.Scheme == "https" && req.TLS == nil {
				req.TLS = &tls.ConnectionState{}
			}
			rec := serve(env.srv.Handler(), req)
			if rec.Code != v.wantCode() {
				t.Fatalf("status %d, want %d; body %s", rec.Code, v.wantCode(), rec.Body)
			}
		})
	}
}

// TestSignatureSecondaryToken checks that during a token rotation either
// token is accepted, and that a third one is not.
func TestSignatureSecondaryToken(t *testing.T) {
	v := loadVectors(t)[0]
	if !v.Valid {
		t.Fatalf("first vector %q should be valid", v.Name)
	}
	base, target := v.split(t)
	tests := []struct {
		name               string
		primary, secondary string
		want               int
	}{
		{"primary matches", v.AuthToken, testTokenNext, http.StatusOK},
		{"secondary matches", testTokenNext, v.AuthToken, http.StatusOK},
		{"neither matches", testTokenNext, testToken, http.StatusForbidden},
		{"no secondary", testTokenNext, "", http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestServer(t, func(o *Options) {
				o.Config = &config.Config{AuthToken: tc.primary, AuthTokenSecondary: tc.secondary, PublicBaseURL: base.String()}
			})
			rec := serve(env.srv.Handler(), formRequest("http://internal"+target, v.form(), v.Signature))
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.want, rec.Body)
			}
		})
	}
}

// TestSignedURL pins how the signed URL is rebuilt from configuration,
// forwarded headers and the request itself.
func TestSignedURL(t *testing.T) {
	tests := []struct {
		name    string
		base    string
		trust   bool
		target  string
		tls     bool
		headers map[string]string
		want    string
	}{
		{
			name:   "base with prefix, ingress strips it",
			base:   "https://cc.example.com/routing",
			target: "http://10.0.0.5:8080/taskrouter/assignment?tenant=emea",
			want:   "https://cc.example.com/routing/taskrouter/assignment?tenant=emea",
		},
		{
			name:   "base with trailing slash",
			base:   "https://cc.example.com/routing/",
			target: "http://10.0.0.5:8080/taskrouter/assignment",
			want:   "https://cc.example.com/routing/taskrouter/assignment",
		},
		{
			name:   "base with port",
			base:   "https://cc.example.com:8443",
			target: "http://10.0.0.5:8080/taskrouter/assignment",
			want:   "https://cc.example.com:8443/taskrouter/assignment",
		},
		{
			name:    "base wins over forwarded headers",
			base:    "https://cc.example.com",
			trust:   true,
			target:  "http://10.0.0.5:8080/taskrouter/assignment",
			headers: map[string]string{"X-Forwarded-Host": "evil.example.com"},
			want:    "https://cc.example.com/taskrouter/assignment",
		},
		{
			name:   "forwarded proto, host and prefix",
			trust:  true,
			target: "http://10.0.0.5:8080/taskrouter/assignment?a=1&b=%2F",
			headers: map[string]string{
				"X-Forwarded-Proto":  "https",
				"X-Forwarded-Host":   "cc.example.com",
				"X-Forwarded-Prefix": "/routing/",
			},
			want: "https://cc.example.com/routing/taskrouter/assignment?a=1&b=%2F",
		},
		{
			name:   "forwarded lists: the first proxy's values",
			trust:  true,
			target: "http://10.0.0.5:8080/taskrouter/assignment",
			headers: map[string]string{
				"X-Forwarded-Proto": "https, http",
				"X-Forwarded-Host":  "cc.example.com, lb.internal",
			},
			want: "https://cc.example.com/taskrouter/assignment",
		},
		{
			name:    "forwarded headers ignored unless trusted",
			target:  "http://10.0.0.5:8080/taskrouter/assignment",
			headers: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "cc.example.com"},
			want:    "http://10.0.0.5:8080/taskrouter/assignment",
		},
		{
			name:   "trusted but absent: the request's own",
			trust:  true,
			target: "http://10.0.0.5:8080/taskrouter/assignment",
			want:   "http://10.0.0.5:8080/taskrouter/assignment",
		},
		{
			name:   "own TLS",
			target: "https://assign.example.com/taskrouter/assignment",
			tls:    true,
			want:   "https://assign.example.com/taskrouter/assignment",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := callback.NewVerifier(tc.base, tc.trust, testToken)
			req := httptest.NewRequest(http.MethodPost, tc.target, nil)
			if !tc.tls {
				req.TLS = nil
			}
			for k, val := range tc.headers {
				req.Header.Set(k, val)
			}
			var f callback.Form
			v.SignURL(&f, req)
			if got := string(f.SignedURL()); got != tc.want {
				t.Errorf("signedURL = %q, want %q", got, tc.want)
			}
		})
	}
}
