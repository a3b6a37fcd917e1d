package app

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/internal/testkit"
)

// devCallback is the README's curl, as a form.
func devCallback() url.Values {
	return url.Values{
		"AccountSid":       {"AC11111111111111111111111111111111"},
		"WorkspaceSid":     {"WS22222222222222222222222222222222"},
		"TaskSid":          {"WT55555555555555555555555555555555"},
		"WorkerSid":        {"WK66666666666666666666666666666666"},
		"ReservationSid":   {"WR77777777777777777777777777777777"},
		"TaskAttributes":   {`{"language":"en"}`},
		"WorkerAttributes": {`{"contact_uri":"client:alice"}`},
	}
}

// signedCallback is devCallback with every field TaskRouter sends on an
// assignment callback, which the listener requires once signatures are
// checked.
func signedCallback() url.Values {
	f := devCallback()
	for k, v := range map[string]string{"WorkflowSid": "WW33333333333333333333333333333333", "TaskQueueSid": "WQ44444444444444444444444444444444",
		"TaskAge": "42", "TaskPriority": "10", "Timestamp": "1764371000"} {
		f.Set(k, v)
	}
	return f
}

// testConfig is the configuration config.Load gives with no environment
// but ASSIGND_EXAMPLE_POLICY=true, on ports the kernel picks.
func testConfig() *config.Config {
	return &config.Config{
		ExamplePolicy:   true,
		Listen:          "127.0.0.1:0",
		AdminListen:     "127.0.0.1:0",
		ShutdownTimeout: 5 * time.Second,
		LogLevel:        "info",
		LogFormat:       "json",

		TaskRouterURL:        "https://taskrouter.twilio.com",
		UpdateQueue:          10000,
		UpdateConcurrency:    16,
		UpdateAttemptTimeout: 5 * time.Second,
		ReservationTimeout:   120 * time.Second,
		DecisionMemory:       100000,
		MaxConnections:       4096,
	}
}

// running is an app run in the background, as the serve command runs it.
type running struct {
	app             *App
	callback, admin string // base URLs
	logs            *observer.ObservedLogs
	// sent counts the callbacks send has sent, for agreement.
	sent uint64
	stop context.CancelFunc // what SIGTERM does through signal.NotifyContext
	done chan error
}

// start builds an app from cfg and runs it. Its listeners are bound by
// New, so it serves as soon as this returns.
func start(t *testing.T, cfg *config.Config) *running {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	a, err := New(Options{Config: cfg, Logger: zap.New(core)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return runApp(t, a, logs)
}

// runApp runs a, built with a logger that writes to logs.
func runApp(t *testing.T, a *App, logs *observer.ObservedLogs) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cbAddr, adminAddr := a.Addrs()
	r := &running{app: a, logs: logs, stop: cancel, done: make(chan error, 1),
		callback: "http://" + cbAddr, admin: "http://" + adminAddr}
	go func() { r.done <- a.Run(ctx, nil) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func postForm(t *testing.T, u string, form url.Values, sig string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		req.Header.Set(callback.SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestServeDev is the README's first command and its curl: development mode
// on the embedded example policy, then a SIGTERM.
func TestServeDev(t *testing.T) {
	cfg := testConfig()
	cfg.Dev = true
	cfg.Listen = ":0" // dev mode must bind loopback whatever is asked
	cfg.AdminListen = "0.0.0.0:0"
	r := start(t, cfg)

	for _, u := range []string{r.callback, r.admin} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("dev mode listens on %s, want 127.0.0.1", u)
		}
	}
	if r.logs.FilterMessageSnippet("DEVELOPMENT MODE").Len() != 1 {
		t.Errorf("no loud development-mode warning at start")
	}
	if code, body := get(t, r.admin+"/healthz"); code != 200 {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if code, body := get(t, r.admin+"/readyz"); code != 200 || !strings.Contains(body, `"status":"ready"`) {
		t.Errorf("/readyz: %d %s", code, body)
	}
	code, ct, body := postForm(t, r.callback+handlers.AssignmentPath, devCallback(), "")
	want := `{"instruction":"dequeue","from":"+15005550006","post_work_activity_sid":"WA0123456789abcdef0123456789abcdef"}`
	if code != 200 || ct != "application/json" || body != want {
		t.Errorf("callback: %d %q %s\nwant 200 application/json %s", code, ct, body, want)
	}
	if code, body := get(t, r.admin+"/metrics"); code != 200 || !strings.Contains(body, `assignd_callbacks_total{code="200"} 1`) {
		t.Errorf("/metrics: %d, no callback counted", code)
	}

	r.stop() // what SIGTERM does through signal.NotifyContext
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		r.done <- nil // for the cleanup
	case <-time.After(cfg.ShutdownTimeout + time.Second):
		t.Fatal("run did not stop within ASSIGND_SHUTDOWN_TIMEOUT")
	}
	if r.logs.FilterMessage("assignd stopped").Len() != 1 {
		t.Errorf("no stop line logged")
	}
	if _, err := http.Get(r.admin + "/healthz"); err == nil {
		t.Errorf("admin listener still answers after shutdown")
	}
}

// TestServeSigned runs with a token and a policy file: signed callbacks pass,
// unsigned ones do not.
func TestServeSigned(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(file, []byte("version: 1\nrules:\n  - name: default\n    instruction: accept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.AuthToken = token
	cfg.PolicyFile = file
	cfg.PublicBaseURL = "https://cc.example.com/routing"
	r := start(t, cfg)

	form := signedCallback()
	u := r.callback + handlers.AssignmentPath + "?tenant=emea"
	sig := testkit.Sign(token, "https://cc.example.com/routing"+handlers.AssignmentPath+"?tenant=emea", form)
	if code, _, body := postForm(t, u, form, sig); code != 200 || body != `{"instruction":"accept"}` {
		t.Errorf("signed callback: %d %s", code, body)
	}
	if code, _, body := postForm(t, u, form, ""); code != 403 || body != `{"error":"invalid signature"}` {
		t.Errorf("unsigned callback: %d %s", code, body)
	}
	if r.logs.FilterMessageSnippet("DEVELOPMENT MODE").Len() != 0 {
		t.Errorf("development-mode warning without ASSIGND_DEV")
	}
}

func TestServeRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nrules:\n  - name: x\n    instruction: teleport\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*config.Config)
		want string
	}{
		{"no token", func(c *config.Config) {}, "TWILIO_AUTH_TOKEN is not set: set it to the account's auth token, or set ASSIGND_DEV=true"},
		{"no policy file", func(c *config.Config) { c.AuthToken, c.ExamplePolicy = "t", false }, config.NoPolicyFile},
		{"invalid policy", func(c *config.Config) { c.Dev = true; c.PolicyFile = bad }, "loading ASSIGND_POLICY_FILE"},
		{"missing policy", func(c *config.Config) { c.Dev = true; c.PolicyFile = filepath.Join(dir, "nope.yaml") }, "loading ASSIGND_POLICY_FILE"},
		{"bad listen address", func(c *config.Config) {
			c.AuthToken = "t"
			c.AccountSid = "AC11111111111111111111111111111111"
			c.Listen = "nope"
		}, "ASSIGND_LISTEN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.edit(cfg)
			_, err := New(Options{Config: cfg, Logger: zap.NewNop(), CheckPolicy: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	for in, want := range map[string]string{":8080": "127.0.0.1:8080", "0.0.0.0:9090": "127.0.0.1:9090", "[::]:1": "127.0.0.1:1"} {
		if got, err := loopback(in); err != nil || got != want {
			t.Errorf("loopback(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := loopback("8080"); err == nil {
		t.Errorf("loopback(8080) accepted an address without a port")
	}
}
