package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/handlers"
)

const (
	servePolicyA   = "version: 1\nrules:\n  - name: rule-a\n    instruction: dequeue\n    params: {from: \"+15005550006\", to: \"client:a\"}\n"
	servePolicyB   = "version: 1\nrules:\n  - name: rule-b\n    instruction: dequeue\n    params: {from: \"+15005550006\", to: \"client:b\"}\n"
	servePolicyBad = "version: 1\nrules:\n  - name: broken\n    when: task.x ==\n    instruction: accept\n"
	servePolicyCnf = "version: 1\nrules:\n  - name: conf\n    instruction: conference\n    params: {from: \"+15005550006\", record: true}\n"
)

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// devPolicyConfig is a development-mode configuration whose policy file
// holds src; write replaces the file's content.
func devPolicyConfig(t *testing.T, src string) (cfg *config.Config, write func(src string)) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	write = func(src string) {
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(src)
	cfg = testConfig()
	cfg.Dev = true
	cfg.PolicyFile = path
	return cfg, write
}

// to answers the README's callback and returns the reply's body.
func (r *running) to(t *testing.T) string {
	t.Helper()
	_, _, body := postForm(t, r.callback+handlers.AssignmentPath, devCallback(), "")
	return body
}

// TestServeHotReload drives serve's three reload triggers: the file watch,
// POST /-/reload and SIGHUP, through a bad file and back.
func TestServeHotReload(t *testing.T) {
	cfg, write := devPolicyConfig(t, servePolicyA)
	r := start(t, cfg)
	to := func() string { return r.to(t) }
	if got := to(); !strings.Contains(got, `"to":"client:a"`) {
		t.Fatalf("first decision %s, want rule-a's", got)
	}

	write(servePolicyBad)
	waitUntil(t, "the watcher to refuse the bad file", func() bool {
		return r.logs.FilterMessage("policy load failed, keeping the running policy").Len() > 0
	})
	if got := to(); !strings.Contains(got, `"to":"client:a"`) {
		t.Fatalf("after a bad file: %s, want rule-a's still", got)
	}
	if code, body := postReload(t, r.admin); code != 500 || !strings.Contains(body, `rule \"broken\" (#1): when:`) {
		t.Errorf("POST /-/reload of a bad file = %d %s", code, body)
	}
	if code, metrics := get(t, r.admin+"/metrics"); code != 200 || !strings.Contains(metrics, `assignd_policy_last_reload_successful{policy="live"} 0`) {
		t.Errorf("after a bad reload, metrics do not show it:\n%s", grepLines(metrics, "assignd_policy_"))
	}

	write(servePolicyB)
	waitUntil(t, "the watcher to load the good file", func() bool { return strings.Contains(to(), `"to":"client:b"`) })
	if _, metrics := get(t, r.admin+"/metrics"); !strings.Contains(metrics, `assignd_policy_last_reload_successful{policy="live"} 1`) {
		t.Errorf("after a good reload, metrics do not show it:\n%s", grepLines(metrics, "assignd_policy_"))
	}

	// SIGHUP reloads (an unchanged file: logged at debug); main turns the
	// signal into this send.
	r.app.Reload()
	waitUntil(t, "SIGHUP to trigger a load", func() bool {
		for _, e := range r.logs.FilterMessage("policy unchanged").All() {
			if e.ContextMap()["trigger"] == "signal" {
				return true
			}
		}
		return false
	})
}

// postReload asks serve's admin listener to reload the policy.
func postReload(t *testing.T, admin string) (int, string) {
	t.Helper()
	res, err := http.Post(admin+"/-/reload", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServeUpdateModeEndToEnd runs serve against a fake TaskRouter: an
// update-mode decision answers the callback with an empty 200 and reaches
// TaskRouter as a REST update, sent by twilio-go with the configured
// credentials.
func TestServeUpdateModeEndToEnd(t *testing.T) {
	t.Setenv("TWILIO_EDGE", "")
	t.Setenv("TWILIO_REGION", "")
	var mu sync.Mutex
	var got []url.Values
	var paths []string
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		r.ParseForm()
		mu.Lock()
		got = append(got, r.PostForm)
		paths = append(paths, r.URL.Path+" "+user+":"+pass)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"sid":"WR77777777777777777777777777777777","reservation_status":"accepted"}`))
	}))
	defer fake.Close()

	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(servePolicyCnf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Dev = true
	cfg.PolicyFile = path
	cfg.AccountSid = "AC11111111111111111111111111111111"
	cfg.AuthToken = "token123"
	cfg.TaskRouterURL = fake.URL
	cfg.UpdateQueue, cfg.UpdateConcurrency = 10, 2
	cfg.UpdateAttemptTimeout, cfg.ReservationTimeout = 2*time.Second, 60*time.Second
	r := start(t, cfg)

	code, ctype, body := postForm(t, r.callback+handlers.AssignmentPath, devCallback(), "")
	if code != 200 || body != "" || ctype != "application/json" {
		t.Fatalf("update-mode callback = %d %q %q, want 200, empty body, application/json", code, body, ctype)
	}
	waitUntil(t, "the REST update", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	mu.Lock()
	defer mu.Unlock()
	want := url.Values{"Instruction": {"conference"}, "From": {"+15005550006"}, "Record": {"true"}}
	if got[0].Encode() != want.Encode() {
		t.Errorf("REST form %v, want %v", got[0], want)
	}
	if p := "/v1/Workspaces/WS22222222222222222222222222222222/Workers/WK66666666666666666666666666666666/Reservations/WR77777777777777777777777777777777 AC11111111111111111111111111111111:token123"; paths[0] != p {
		t.Errorf("REST request %q, want %q", paths[0], p)
	}
}

// TestServeRefusesUpdateRulesWithoutCredentials: outside development mode
// an update-mode policy needs REST credentials, at start and on reload.
func TestServeRefusesUpdateRulesWithoutCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(servePolicyCnf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.AuthToken = "token123"
	cfg.PolicyFile = path
	_, err := New(Options{Config: cfg, Logger: zap.NewNop(), CheckPolicy: true})
	if err == nil || !strings.Contains(err.Error(), "update-mode rules need REST credentials: set TWILIO_ACCOUNT_SID") {
		t.Fatalf("New = %v, want a refusal naming TWILIO_ACCOUNT_SID", err)
	}
	// Without -check-policy the service starts, not ready, saying why.
	r := start(t, cfg)
	if code, body := get(t, r.admin+"/readyz"); code != 503 || !strings.Contains(body, "set TWILIO_ACCOUNT_SID") {
		t.Errorf("readyz %d %s, want 503 naming TWILIO_ACCOUNT_SID", code, body)
	}
	r.stop()
	<-r.done
	r.done <- nil // for start's cleanup

	if err := os.WriteFile(path, []byte(servePolicyA), 0o644); err != nil {
		t.Fatal(err)
	}
	r = start(t, cfg)
	if err := os.WriteFile(path, []byte(servePolicyCnf), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := postReload(t, r.admin); code != 500 || !strings.Contains(body, "REST credentials") {
		t.Errorf("reload into update-mode rules without credentials = %d %s, want 500 naming REST credentials", code, body)
	}
}

// TestServeShutdownDelay: after SIGTERM, with ASSIGND_SHUTDOWN_DELAY set,
// readiness is 503 at once while callbacks are still answered, so that a
// load balancer that has not yet noticed sends nothing into a closed port.
func TestServeShutdownDelay(t *testing.T) {
	cfg := testConfig()
	cfg.Dev = true
	cfg.ShutdownDelay = 600 * time.Millisecond
	r := start(t, cfg)
	stopped := time.Now()
	r.stop()
	waitUntil(t, "readiness to turn 503", func() bool { code, _ := get(t, r.admin+"/readyz"); return code == 503 })
	code, _, body := postForm(t, r.callback+handlers.AssignmentPath, devCallback(), "")
	if code != 200 || !strings.Contains(body, `"instruction"`) {
		t.Errorf("callback during the shutdown delay = %d %s, want 200 with an instruction", code, body)
	}
	if err := <-r.done; err != nil {
		t.Fatalf("run: %v", err)
	}
	r.done <- nil // for start's cleanup
	if took := time.Since(stopped); took < cfg.ShutdownDelay {
		t.Errorf("stopped after %s, before the %s delay", took, cfg.ShutdownDelay)
	}
}

// TestStopDelayEndsWithItsContext: a shutdown delay longer than Stop's
// context does not hold Stop past that context.
func TestStopDelayEndsWithItsContext(t *testing.T) {
	cfg := testConfig()
	cfg.Dev = true
	cfg.ShutdownTimeout, cfg.ShutdownDelay = 2*time.Hour, time.Hour
	a, err := New(Options{Config: cfg, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	a.Start(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- a.Stop(ctx) }()
	select {
	case <-stopped:
	case <-time.After(time.Minute): // a guard against hanging for the hour, not a latency bound
		t.Fatal("Stop waited out the shutdown delay past its context")
	}
	if ok, why := a.Ready(); ok || why != "shutting down" {
		t.Errorf("Ready = %v %q after Stop, want not ready, shutting down", ok, why)
	}
}

// TestServeReloadsWithoutWatch: when the policy directory cannot be
// watched (in production, a full inotify table), the failure is logged at
// error and counted, and SIGHUP and POST /-/reload still reload the file.
func TestServeReloadsWithoutWatch(t *testing.T) {
	cfg, write := devPolicyConfig(t, servePolicyA)
	core, logs := observer.New(zapcore.DebugLevel)
	a, err := New(Options{Config: cfg, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	a.reloader.Watch = func(string) (*fsnotify.Watcher, error) {
		return nil, errors.New("inotify_init1: too many open files")
	}
	r := runApp(t, a, logs)
	to := func() string { return r.to(t) }
	waitUntil(t, "the watch failure to be logged", func() bool {
		return logs.FilterMessageSnippet("policy watch failed").FilterLevelExact(zapcore.ErrorLevel).Len() == 1
	})
	if _, metrics := get(t, r.admin+"/metrics"); !strings.Contains(metrics, `assignd_policy_watch_errors_total{policy="live"} 1`) {
		t.Errorf("the watch failure is not counted:\n%s", grepLines(metrics, "assignd_policy_"))
	}

	write(servePolicyB)
	a.Reload() // SIGHUP
	waitUntil(t, "SIGHUP to load rule-b", func() bool { return strings.Contains(to(), `"to":"client:b"`) })

	write(servePolicyA)
	if code, body := postReload(t, r.admin); code != 200 {
		t.Fatalf("POST /-/reload without a watch = %d %s", code, body)
	}
	if got := to(); !strings.Contains(got, `"to":"client:a"`) {
		t.Errorf("after POST /-/reload: %s, want rule-a's", got)
	}
}

// TestRunReloadsOnHUP: each value on Run's hup channel reloads the policy
// file, as SIGHUP does through main.
func TestRunReloadsOnHUP(t *testing.T) {
	cfg, write := devPolicyConfig(t, servePolicyA)
	a, err := New(Options{Config: cfg, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	a.reloader.Watch = func(string) (*fsnotify.Watcher, error) { return nil, errors.New("no watching in this test") }
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, hup) }()
	t.Cleanup(func() { cancel(); <-done })
	before := a.store.Current().Hash()
	write(servePolicyB)
	hup <- syscall.SIGHUP
	waitUntil(t, "the policy reloads on SIGHUP", func() bool { return a.store.Current().Hash() != before })
}
