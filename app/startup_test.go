package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assignd/assignd/api"
	"github.com/assignd/assignd/cli"
	"github.com/assignd/assignd/config"
)

// TestStartsNotReadyOnBadPolicy: a policy file that does not load at start
// leaves the process alive and not ready, with the problem in /readyz and
// GET /-/policy, the failure counted; once the file is fixed the watch
// loads it and the process becomes ready, without a restart.
func TestStartsNotReadyOnBadPolicy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	write := func(src string) {
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(servePolicyBad)
	cfg := testConfig()
	cfg.ExamplePolicy = false
	cfg.AuthToken = "tok"
	cfg.PolicyFile = path
	r := start(t, cfg)

	if code, body := get(t, r.admin+"/healthz"); code != 200 {
		t.Fatalf("healthz %d %s: liveness must not depend on the policy", code, body)
	}
	code, body := get(t, r.admin+"/readyz")
	if code != 503 || !strings.Contains(body, "no policy loaded") || !strings.Contains(body, "broken") {
		t.Fatalf("readyz %d %s, want 503 naming the problem", code, body)
	}
	code, body = get(t, r.admin+"/-/policy")
	var res api.ReloadResult
	if err := json.Unmarshal([]byte(body), &res); err != nil || code != 503 || len(res.Problems) == 0 {
		t.Fatalf("GET /-/policy %d %s, want 503 with the problems", code, body)
	}
	if _, metrics := get(t, r.admin+"/metrics"); !strings.Contains(metrics, `assignd_policy_reloads_total{policy="live",result="failure"} 1`) {
		t.Errorf("the failed load is not counted")
	}
	if _, page := get(t, r.admin+"/"); !strings.Contains(page, "broken") {
		t.Errorf("the console does not show the problem")
	}

	write(servePolicyA)
	waitUntil(t, "the fixed file to load", func() bool {
		code, _ := get(t, r.admin+"/readyz")
		return code == 200
	})
	if code, body := get(t, r.admin+"/-/policy"); code != 200 || !strings.Contains(body, "rule-a") {
		t.Errorf("after the fix, GET /-/policy %d %s, want rule-a", code, body)
	}
}

// TestExamplePolicyOnPurpose: ASSIGND_EXAMPLE_POLICY=true runs the
// example, says so at warn, labels assignd_policy_info and shows the
// console's banner; /metrics carries the build, and GET /-/config the
// effective configuration without secrets.
func TestExamplePolicyOnPurpose(t *testing.T) {
	cfg := testConfig()
	cfg.AuthToken, cfg.AccountSid = "s3cr3ttoken", "AC11111111111111111111111111111111"
	r := start(t, cfg)
	if r.logs.FilterMessageSnippet("ASSIGND_EXAMPLE_POLICY=true: running the embedded example policy").Len() != 1 {
		t.Errorf("no warning that the example runs")
	}
	_, metrics := get(t, r.admin+"/metrics")
	for _, want := range []string{`assignd_policy_info{example="true",hash=`, `assignd_build_info{goversion="go`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if _, page := get(t, r.admin+"/"); !strings.Contains(page, `id="banner-example"`) {
		t.Errorf("the console has no example banner")
	}
	code, body := get(t, r.admin+"/-/config")
	var entries []config.Entry
	if err := json.Unmarshal([]byte(body), &entries); err != nil || code != 200 || len(entries) != len(config.Vars()) {
		t.Fatalf("GET /-/config %d %s", code, body)
	}
	if strings.Contains(body, "s3cr3t") || !strings.Contains(body, `"name":"TWILIO_AUTH_TOKEN","value":"set"`) {
		t.Errorf("GET /-/config shows a secret or hides that it is set: %s", body)
	}
	if r.logs.FilterMessage("effective configuration").Len() != 1 {
		t.Errorf("no effective configuration at start-up")
	}
	for _, e := range r.logs.All() {
		for _, f := range e.Context {
			if strings.Contains(f.String, "s3cr3t") {
				t.Errorf("log line %q carries the token", e.Message)
			}
		}
	}
}

// TestPolicyFileNotLabelledExample: a policy file's metrics carry no
// example label.
func TestPolicyFileNotLabelledExample(t *testing.T) {
	cfg, _ := devPolicyConfig(t, servePolicyA)
	r := start(t, cfg)
	if _, metrics := get(t, r.admin+"/metrics"); strings.Contains(metrics, `example="true"`) {
		t.Errorf("a policy file is labelled the example")
	}
	if _, page := get(t, r.admin+"/"); strings.Contains(page, `id="banner-example"`) {
		t.Errorf("a policy file has the example banner")
	}
}

// TestExplainServerRunningPolicy: explain -server without -policy explains
// with the server's running policy, not the embedded example, and prints
// its outcome counts after.
func TestExplainServerRunningPolicy(t *testing.T) {
	cfg, _ := devPolicyConfig(t, servePolicyA)
	r := start(t, cfg)
	var stdout, stderr strings.Builder
	code := cli.Explain([]string{"-task", `{"language":"en"}`, "-server", r.admin, "-expect", "rule-a"}, nil, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"running on " + r.admin, `=> rule "rule-a" (#1): dequeue, respond mode`, `"to":"client:a"`, "outcomes on " + r.admin} {
		if !strings.Contains(out, want) {
			t.Errorf("explain -server output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "another policy") {
		t.Errorf("the running policy was reported as another:\n%s", out)
	}
}
