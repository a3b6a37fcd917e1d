package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/policy"
)

const (
	adminPolicyA = "version: 1\nrules:\n  - name: rule-a\n    instruction: dequeue\n    params: {from: \"+15005550006\", to: \"client:a\"}\n"
	adminPolicyB = "version: 1\nrules:\n  - name: rule-b\n    instruction: dequeue\n    params: {from: \"+15005550006\", to: \"client:b\"}\n"
	adminPolicyX = "version: 1\nrules:\n  - name: broken\n    when: task.x ==\n    instruction: accept\n"
)

// newPolicyAdminServer serves a dev-mode Server whose policy comes from a
// file with a running Reloader, as serve wires it.
func newPolicyAdminServer(t *testing.T, src string) (srv *Server, path string, callback, admin *httptest.Server) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	store := newStore(t, reg)
	if _, err := store.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	cb, err := handlers.New(handlers.Options{Store: store, Config: &config.Config{Dev: true}, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	r, err := policy.NewReloader(store, path, zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	// A clock a second later at each reading: the reload limit never
	// holds these tests' reloads back.
	var tick atomic.Int64
	now := func() time.Time { return time.Unix(tick.Add(1), 0) }
	if srv, err = New(Options{Store: store, Gatherer: reg, Reload: r.Reload, Now: now}); err != nil {
		t.Fatal(err)
	}
	callback, admin = httptest.NewServer(cb.Handler()), httptest.NewServer(srv.Handler())
	t.Cleanup(callback.Close)
	t.Cleanup(admin.Close)
	return srv, path, callback, admin
}

func adminCall(t *testing.T, method, url string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", method, url, err)
	}
	return res.StatusCode, body
}

func TestPolicyAdminReloadAndInfo(t *testing.T) {
	_, path, _, admin := newPolicyAdminServer(t, adminPolicyA)

	code, info := adminCall(t, "GET", admin.URL+"/-/policy")
	if code != 200 || info["source"] != adminPolicyA || info["file"] != path || info["hash"] == "" || info["loaded_at"] == "" {
		t.Fatalf("GET /-/policy = %d %v", code, info)
	}
	hashA := info["hash"]

	steps := []struct {
		name, src string
		wantCode  int
		wantRule  string
		wantIn    string
	}{
		{"bad file is refused with its problems", adminPolicyX, 500, "rule-a", `rule \"broken\" (#1): when:`},
		{"good file is loaded", adminPolicyB, 200, "rule-b", `"status":"ok"`},
		{"unchanged file is fine", adminPolicyB, 200, "rule-b", `"status":"ok"`},
	}
	for _, st := range steps {
		if err := os.WriteFile(path, []byte(st.src), 0o644); err != nil {
			t.Fatal(err)
		}
		code, body := adminCall(t, "POST", admin.URL+"/-/reload")
		raw, _ := json.Marshal(body)
		if code != st.wantCode || !strings.Contains(string(raw), st.wantIn) {
			t.Errorf("%s: POST /-/reload = %d %s; want %d containing %s", st.name, code, raw, st.wantCode, st.wantIn)
		}
		_, info := adminCall(t, "GET", admin.URL+"/-/policy")
		if rules, _ := info["rules"].([]any); len(rules) != 1 || rules[0] != st.wantRule {
			t.Errorf("%s: running rules %v, want [%s]", st.name, info["rules"], st.wantRule)
		}
	}
	if _, info := adminCall(t, "GET", admin.URL+"/-/policy"); info["hash"] == hashA {
		t.Error("hash did not change with the policy")
	}
}

func TestPolicyAdminNoFile(t *testing.T) {
	reg := prometheus.NewRegistry()
	store := newStore(t, reg)
	p, err := policy.Parse(policy.ExampleName, policy.Example())
	if err != nil {
		t.Fatal(err)
	}
	store.Set(p)
	srv, err := New(Options{Store: store, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	admin := httptest.NewServer(srv.Handler())
	defer admin.Close()
	if code, body := adminCall(t, "POST", admin.URL+"/-/reload"); code != http.StatusConflict {
		t.Errorf("POST /-/reload with no file = %d %v, want 409", code, body)
	}
	if code, body := adminCall(t, "GET", admin.URL+"/-/policy"); code != 200 || body["file"] != policy.ExampleName {
		t.Errorf("GET /-/policy = %d %v", code, body)
	}
}

func raceForm(i int) url.Values {
	sid := func(prefix string) string { return fmt.Sprintf("%s%032x", prefix, i) }
	return url.Values{
		"AccountSid": {sid("AC")}, "WorkspaceSid": {sid("WS")}, "WorkflowSid": {sid("WW")}, "TaskQueueSid": {sid("WQ")},
		"TaskSid": {sid("WT")}, "WorkerSid": {sid("WK")}, "ReservationSid": {sid("WR")},
		"TaskAge": {"3"}, "TaskPriority": {"1"}, "TaskAttributes": {`{"language":"es"}`}, "WorkerAttributes": {`{}`},
	}
}

// TestCallbacksRaceReloads posts 1,000 callbacks while the policy file is
// reloaded 100 times between two policies: every callback gets a 200 and a
// decision of one policy or the other, never a mix and never an error.
func TestCallbacksRaceReloads(t *testing.T) {
	_, path, callback, admin := newPolicyAdminServer(t, adminPolicyA)
	want := map[string]bool{
		`{"instruction":"dequeue","from":"+15005550006","to":"client:a"}`: true,
		`{"instruction":"dequeue","from":"+15005550006","to":"client:b"}`: true,
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var wg sync.WaitGroup
	errs := make(chan error, 1100)
	seen := make(chan string, 1000)

	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 100; i++ {
			src := adminPolicyA
			if i%2 == 0 {
				src = adminPolicyB
			}
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				errs <- err
				return
			}
			res, err := client.Post(admin.URL+"/-/reload", "application/json", nil)
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				errs <- fmt.Errorf("reload %d: status %d", i, res.StatusCode)
			}
		}
	}()
	jobs := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res, err := client.PostForm(callback.URL+handlers.AssignmentPath, raceForm(i))
				if err != nil {
					errs <- err
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || !want[string(body)] {
					errs <- fmt.Errorf("callback %d: %d %q %s", i, res.StatusCode, res.Header.Get("Content-Type"), body)
					continue
				}
				seen <- string(body)
			}
		}()
	}
	for i := 0; i < 1000; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	close(seen)
	for err := range errs {
		t.Error(err)
	}
	counts := map[string]int{}
	for body := range seen {
		counts[body]++
	}
	if n := counts[`{"instruction":"dequeue","from":"+15005550006","to":"client:a"}`] + counts[`{"instruction":"dequeue","from":"+15005550006","to":"client:b"}`]; n != 1000 {
		t.Errorf("%d callbacks answered correctly, want 1000", n)
	}
	t.Logf("decisions by policy: %v", counts)
}

// TestPolicyAdminHidesSecrets checks the admin surfaces that show a policy:
// GET /-/policy masks the SIP password in the source, and a reload refused
// for a numeric password neither answers nor logs the number, at any level.
func TestPolicyAdminHidesSecrets(t *testing.T) {
	const (
		password = "hunter2-do-not-show"
		number   = "987654321"
	)
	src := func(pw string) string {
		return "version: 1\nrules:\n  - name: sip\n    when: worker.sip == true\n    instruction: conference\n" +
			"    params:\n      from: \"+15005550006\"\n      sip_auth_password: " + pw + " # rotated monthly\n" +
			"  - name: default\n    instruction: accept\n"
	}
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(core)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(src(password)), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	store, err := policy.NewStore(log.Named("policy"), reg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Store: store, Gatherer: reg, Logger: log,
		Reload: func(context.Context) error { _, err := store.LoadFile(path); return err }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	admin := httptest.NewServer(srv.Handler())
	defer admin.Close()

	_, info := adminCall(t, "GET", admin.URL+"/-/policy")
	want := src(`"` + policy.RedactedValue + `"`)
	if info["source"] != want {
		t.Errorf("GET /-/policy source:\n%v\nwant:\n%s", info["source"], want)
	}
	if err := os.WriteFile(path, []byte(src(number)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, res := adminCall(t, "POST", admin.URL+"/-/reload")
	raw, _ := json.Marshal(res)
	if code != http.StatusInternalServerError || !strings.Contains(string(raw), "sip_auth_password") {
		t.Errorf("POST /-/reload = %d %s; want 500 naming sip_auth_password", code, raw)
	}
	_, info = adminCall(t, "GET", admin.URL+"/-/policy")
	shown := string(raw) + fmt.Sprint(info)
	for _, e := range logs.All() {
		shown += e.Message + fmt.Sprint(e.ContextMap())
	}
	if logs.Len() < 3 {
		t.Errorf("only %d log lines; the test must see the load, the refusal and the admin warning", logs.Len())
	}
	for _, secret := range []string{password, number} {
		if strings.Contains(shown, secret) {
			t.Errorf("%q is shown:\n%s", secret, shown)
		}
	}
}
