package deploy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/assignd/assignd/app"
	"github.com/assignd/assignd/config"
)

// dashboardFile is the Grafana dashboard the tests check.
var dashboardFile = filepath.Join("grafana", "assignd.json")

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

// fileExists reports whether p names an existing file.
func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// instance is one running assignd process.
type instance struct {
	callbackURL, adminURL string
	// updates counts the REST requests the fake TaskRouter received.
	updates *atomic.Int64
}

// startAssignd starts an app.App in dev mode, on 127.0.0.1:0, with the
// deployment's policy and a fake TaskRouter on loopback, configured from
// the environment as serve is, and stops it when the test ends.
func startAssignd(t *testing.T, policySrc string) *instance {
	t.Helper()
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(policySrc), 0o644); err != nil {
		t.Fatal(err)
	}
	// The same policy as a shadow, so that the shadow metrics the
	// dashboard and the alerts query are exported.
	shadowFile := filepath.Join(dir, "shadow.yaml")
	if err := os.WriteFile(shadowFile, []byte(policySrc), 0o644); err != nil {
		t.Fatal(err)
	}

	updates := new(atomic.Int64)
	taskRouter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		updates.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"sid":"WR0123456789abcdef0123456789abcdef","reservation_status":"accepted"}`)
	}))
	t.Cleanup(taskRouter.Close)

	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "ASSIGND_") || strings.HasPrefix(k, "TWILIO_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for k, v := range map[string]string{
		"ASSIGND_DEV":                "true",
		"ASSIGND_LISTEN":             "127.0.0.1:0",
		"ASSIGND_ADMIN_LISTEN":       "127.0.0.1:0",
		"ASSIGND_POLICY_FILE":        policyFile,
		"ASSIGND_SHADOW_POLICY_FILE": shadowFile,
		"ASSIGND_TASKROUTER_URL":     taskRouter.URL,
		"ASSIGND_SHUTDOWN_TIMEOUT":   "5s",
		"TWILIO_ACCOUNT_SID":         "AC0123456789abcdef0123456789abcdef",
		"TWILIO_AUTH_TOKEN":          "0123456789abcdef0123456789abcdef",
	} {
		t.Setenv(k, v)
	}
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	a, err := app.New(app.Options{Config: cfg, Logger: zap.New(core)})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if t.Failed() {
			for _, e := range logs.All() {
				t.Logf("assignd: %s %s %v", e.Level, e.Message, e.ContextMap())
			}
		}
	})
	callback, admin := a.Addrs()
	in := &instance{callbackURL: "http://" + callback, adminURL: "http://" + admin, updates: updates}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(in.adminURL + readyPath); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("assignd was not ready within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// postCallback POSTs one assignment callback form and returns the status.
func (in *instance) postCallback(t *testing.T, taskAttrs string, reservation string) int {
	t.Helper()
	form := url.Values{
		"AccountSid":       {"AC0123456789abcdef0123456789abcdef"},
		"WorkspaceSid":     {"WS0123456789abcdef0123456789abcdef"},
		"WorkflowSid":      {"WW0123456789abcdef0123456789abcdef"},
		"TaskQueueSid":     {"WQ0123456789abcdef0123456789abcdef"},
		"TaskSid":          {"WT0123456789abcdef0123456789abcdef"},
		"WorkerSid":        {"WK0123456789abcdef0123456789abcdef"},
		"ReservationSid":   {reservation},
		"TaskAge":          {"5"},
		"TaskPriority":     {"1"},
		"TaskAttributes":   {taskAttrs},
		"WorkerAttributes": {`{"contact_uri":"client:alice"}`},
	}
	resp, err := http.PostForm(in.callbackURL+callbackPath, form)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// postEvent posts a reservation event callback, as the TaskRouter Events
// reference describes it, unsigned (the instance runs in dev mode), and
// returns the status.
func (in *instance) postEvent(t *testing.T, eventType, reservation string) int {
	t.Helper()
	form := url.Values{
		"EventType":        {eventType},
		"AccountSid":       {"AC0123456789abcdef0123456789abcdef"},
		"WorkspaceSid":     {"WS0123456789abcdef0123456789abcdef"},
		"WorkspaceName":    {"Support"},
		"EventDescription": {"Reservation accepted"},
		"ResourceType":     {"Reservation"},
		"ResourceSid":      {reservation},
		"Timestamp":        {"1767268800"},
		"TaskSid":          {"WT0123456789abcdef0123456789abcdef"},
		"TaskAttributes":   {`{"language":"en"}`},
		"TaskAge":          {"9"},
		"TaskPriority":     {"1"},
		"TaskQueueSid":     {"WQ0123456789abcdef0123456789abcdef"},
		"WorkflowSid":      {"WW0123456789abcdef0123456789abcdef"},
		"WorkerSid":        {"WK0123456789abcdef0123456789abcdef"},
		"WorkerName":       {"alice"},
		"WorkerAttributes": {`{"contact_uri":"client:alice"}`},
		"ReservationSid":   {reservation},
	}
	resp, err := http.PostForm(in.callbackURL+eventsPath, form)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// metricFamilies parses the Prometheus text exposition format into family
// names and their types, from the # TYPE lines.
func metricFamilies(r io.Reader) (map[string]string, error) {
	families := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			families[f[2]] = f[3]
		}
	}
	return families, sc.Err()
}

// scrape fetches and parses the admin listener's /metrics.
func (in *instance) scrape(t *testing.T) map[string]string {
	t.Helper()
	resp, err := http.Get(in.adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	families, err := metricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// missingMetrics returns the names queried that no family exports. A
// histogram's or summary's _bucket, _sum and _count series belong to their
// family.
func missingMetrics(queried []string, families map[string]string) []string {
	var missing []string
	for _, name := range queried {
		if _, ok := families[name]; ok {
			continue
		}
		found := false
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base, ok := strings.CutSuffix(name, suffix)
			if typ := families[base]; ok && (typ == "histogram" || (typ == "summary" && suffix != "_bucket")) {
				found = true
			}
		}
		if !found {
			missing = append(missing, name)
		}
	}
	return missing
}

// metricName matches an assignd metric name in a PromQL expression.
var metricName = regexp.MustCompile(`\bassignd_[a-z_]+`)

// dashboardQueries walks a dashboard's JSON and returns every query string:
// panels' expr and the templating variables' query and definition.
func dashboardQueries(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || k == "query" || k == "definition") {
				out = append(out, s)
				continue
			}
			out = append(out, dashboardQueries(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, dashboardQueries(x)...)
		}
	}
	return out
}

// queriedMetrics returns the sorted, distinct assignd metric names in exprs.
func queriedMetrics(exprs []string) []string {
	var names []string
	for _, e := range exprs {
		names = append(names, metricName.FindAllString(e, -1)...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// dashboard is the part of a Grafana dashboard the tests look at.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
}

// panel is one dashboard panel.
type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

// loadDashboard reads the dashboard both as a generic value and as the
// panel structure.
func loadDashboard(t *testing.T) (any, *dashboard) {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("%s does not parse: %v", dashboardFile, err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return raw, &d
}

// TestDashboard checks the dashboard's structure, and that it covers what
// the issue asks to see.
func TestDashboard(t *testing.T) {
	raw, d := loadDashboard(t)
	if d.UID == "" || d.Title == "" || d.SchemaVersion == 0 {
		t.Errorf("uid %q title %q schemaVersion %d; want all set", d.UID, d.Title, d.SchemaVersion)
	}
	var hasDatasourceVar bool
	for _, v := range d.Templating.List {
		if v.Name == "datasource" && v.Type == "datasource" {
			hasDatasourceVar = true
		}
	}
	if !hasDatasourceVar {
		t.Error("no datasource variable: the dashboard would be bound to one Prometheus")
	}
	ids := map[int]bool{}
	var queries int
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W < 1 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H < 1 {
			t.Errorf("panel %q: gridPos %+v is outside the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Title == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the datasource variable", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" || len(metricName.FindAllString(tg.Expr, -1)) == 0 {
				t.Errorf("panel %q: query %q names no assignd metric", p.Title, tg.Expr)
			}
			if refs[tg.RefID] {
				t.Errorf("panel %q: refId %q is used twice", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			queries++
		}
	}
	if queries < 10 {
		t.Errorf("only %d queries", queries)
	}

	// What the issue asks the dashboard to show.
	exprs := dashboardQueries(raw)
	queried := queriedMetrics(exprs)
	for _, tt := range []struct {
		what   string
		metric string
		// pattern, if set, must match some query.
		pattern string
	}{
		{"callbacks by rule and instruction", "assignd_decisions_total", `by \(rule, instruction\)\s*\(rate\(assignd_decisions_total`},
		{"callbacks by status", "assignd_callbacks_total", ""},
		{"signature failures", "assignd_signature_failures_total", ""},
		{"decision latency", "assignd_decision_duration_seconds_bucket", `histogram_quantile\(.*assignd_decision_duration_seconds_bucket`},
		{"update outcomes", "assignd_reservation_updates_total", `by \(instruction, outcome\)`},
		{"update retries", "assignd_update_retries_total", ""},
		{"queue depth", "assignd_update_queue_depth", ""},
		{"reloads", "assignd_policy_reloads_total", ""},
		{"last reload successful", "assignd_policy_last_reload_successful", ""},
		{"accept rate by rule", "assignd_reservation_outcomes_total", `by \(rule\) \(rate\(assignd_reservation_outcomes_total\{[^}]*outcome="accepted"`},
		{"timeout rate by rule", "assignd_reservation_outcomes_total", `by \(rule\) \(rate\(assignd_reservation_outcomes_total\{[^}]*outcome="timeout"`},
		{"time to accept by rule", "assignd_reservation_outcome_seconds_bucket", `histogram_quantile\(.*by \(rule, le\).*assignd_reservation_outcome_seconds_bucket\{[^}]*outcome="accepted"`},
		{"events by type", "assignd_events_total", ""},
		{"decision memory", "assignd_decision_memory_evictions_total", ""},
	} {
		t.Run(tt.what, func(t *testing.T) {
			if !slices.Contains(queried, tt.metric) {
				t.Errorf("no query uses %s", tt.metric)
			}
			if tt.pattern == "" {
				return
			}
			re := regexp.MustCompile(tt.pattern)
			if !slices.ContainsFunc(exprs, re.MatchString) {
				t.Errorf("no query matches %s", tt.pattern)
			}
		})
	}
}

// TestMetricChecking shows that the metric-name extraction and lookup used
// by TestDashboardMetricsExported can fail.
func TestMetricChecking(t *testing.T) {
	exposition := `# HELP assignd_x_seconds A histogram.
# TYPE assignd_x_seconds histogram
assignd_x_seconds_bucket{le="+Inf"} 1
assignd_x_seconds_sum 0.1
assignd_x_seconds_count 1
# TYPE assignd_y_total counter
assignd_y_total{code="200"} 3
`
	families, err := metricFamilies(strings.NewReader(exposition))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		expr    string
		missing []string
	}{
		{"histogram series", `histogram_quantile(0.9, sum by (le) (rate(assignd_x_seconds_bucket{namespace=~"$namespace"}[$__rate_interval])))`, nil},
		{"sum and count", `sum(rate(assignd_x_seconds_sum[5m])) / sum(rate(assignd_x_seconds_count[5m]))`, nil},
		{"counter", `sum by (code) (rate(assignd_y_total[5m]))`, nil},
		{"unknown name", `rate(assignd_z_total[5m])`, []string{"assignd_z_total"}},
		{"counter without _total", `rate(assignd_y[5m])`, []string{"assignd_y"}},
		{"bucket of a counter", `rate(assignd_y_total_bucket[5m])`, []string{"assignd_y_total_bucket"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := missingMetrics(queriedMetrics([]string{tt.expr}), families)
			if !slices.Equal(got, tt.missing) {
				t.Errorf("missing %v, want %v", got, tt.missing)
			}
		})
	}
	t.Run("queries found in nested JSON", func(t *testing.T) {
		var v any
		src := `{"panels":[{"targets":[{"expr":"rate(assignd_a_total[1m])"}]},{"panels":[{"targets":[{"expr":"assignd_b"}]}]}],
			"templating":{"list":[{"query":{"query":"label_values(assignd_c, namespace)"},"definition":"label_values(assignd_c, namespace)"}]},
			"title":"assignd_not_a_query"}`
		if err := json.Unmarshal([]byte(src), &v); err != nil {
			t.Fatal(err)
		}
		got := queriedMetrics(dashboardQueries(v))
		if want := []string{"assignd_a_total", "assignd_b", "assignd_c"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}

// TestDashboardMetricsExported runs the binary with the deployment's policy,
// drives it through a respond decision, a rule skip and an update-mode
// decision, scrapes its admin port, and checks that every metric the
// dashboard queries is exported, and that the probe and scrape paths of the
// manifests are served on the admin port.
func TestDashboardMetricsExported(t *testing.T) {
	r := render(t, baseDir)
	cm := only(t, "ConfigMap", r.configMaps)
	// The experiment row's series exist only for a policy with an
	// experiment: the deployment's policy gains one that every callback
	// evaluates and none is decided by.
	src := cm.Data["policy.yaml"]
	if !strings.Contains(src, "\nrules:\n") {
		t.Fatal("the deployment's policy has no top-level rules: list")
	}
	src = strings.Replace(src, "\nrules:\n", `
experiments:
  demo: {key: "{{callback.TaskSid}}", arms: {control: 50, treatment: 50}}
rules:
  - name: experiment-probe
    when: experiment.demo IN ["control", "treatment"] AND task.language == "xx"
    instruction: dequeue
`, 1)
	in := startAssignd(t, src)

	// The deployment's policy: "default" dequeues (respond mode);
	// "vip-spanish" conferences (update mode) and is skipped when the task
	// has no "to" for its from template.
	for _, tt := range []struct {
		name, attrs, reservation string
	}{
		{"respond", `{"language":"en"}`, "WR00000000000000000000000000000001"},
		{"skip then respond", `{"language":"es","tier":"gold"}`, "WR00000000000000000000000000000002"},
		{"update", `{"language":"es","tier":"gold","to":"+15005550001"}`, "WR00000000000000000000000000000003"},
	} {
		if code := in.postCallback(t, tt.attrs, tt.reservation); code != http.StatusOK {
			t.Errorf("%s callback: status %d, want 200", tt.name, code)
		}
	}
	// The update is sent after the reply; wait for the fake TaskRouter.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for in.updates.Load() == 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if in.updates.Load() == 0 {
		t.Error("the update-mode callback sent no reservation update to ASSIGND_TASKROUTER_URL")
	}

	// Outcome series exist once an event has been counted: one for a
	// remembered reservation (with its duration), one for another
	// replica's.
	for _, reservation := range []string{"WR00000000000000000000000000000001", "WR00000000000000000000000000000009"} {
		if code := in.postEvent(t, "reservation.accepted", reservation); code != http.StatusNoContent {
			t.Errorf("event for %s: status %d, want 204", reservation, code)
		}
	}

	families := in.scrape(t)
	raw, _ := loadDashboard(t)
	queried := queriedMetrics(dashboardQueries(raw))
	// The example alert's queries must name exported metrics too.
	for _, pr := range render(t, monitorOverlayDir).prometheusRules {
		for _, g := range pr.Spec.Groups {
			for _, rule := range g.Rules {
				queried = append(queried, queriedMetrics([]string{rule.Expr})...)
			}
		}
	}
	if len(queried) == 0 {
		t.Fatal("the dashboard queries no assignd metric")
	}
	for _, name := range missingMetrics(queried, families) {
		t.Errorf("the dashboard queries %s, which the binary does not export", name)
	}
	if t.Failed() {
		var exported []string
		for name := range families {
			if strings.HasPrefix(name, "assignd_") {
				exported = append(exported, name)
			}
		}
		slices.Sort(exported)
		t.Logf("exported: %v", exported)
	}

	t.Run("manifest paths are served on the admin port", func(t *testing.T) {
		d := only(t, "Deployment", r.deployments)
		c := assigndContainer(t, d)
		paths := []string{c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path}
		if sms := render(t, monitorOverlayDir).serviceMonitors; len(sms) == 1 {
			for _, ep := range sms[0].Spec.Endpoints {
				paths = append(paths, ep.Path)
			}
		}
		for _, p := range paths {
			resp, err := http.Get(in.adminURL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s on the admin port: %s", p, resp.Status)
			}
		}
	})
}

// dockerignored reports whether a .dockerignore pattern excludes rel, a
// slash-separated path from the build context's root. It follows Docker's
// rules for the patterns .dockerignore uses here: a pattern matches a path
// or any of its parent directories, and a leading **/ matches at any depth.
// Exceptions (!) are not supported.
func dockerignored(patterns []string, rel string) bool {
	parts := strings.Split(rel, "/")
	for _, p := range patterns {
		p = strings.Trim(strings.TrimSpace(p), "/")
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		anyDepth := strings.HasPrefix(p, "**/")
		p = strings.TrimPrefix(p, "**/")
		for i := range parts {
			prefix := strings.Join(parts[:i+1], "/")
			if ok, _ := filepath.Match(p, prefix); ok {
				return true
			}
			if anyDepth {
				if ok, _ := filepath.Match(p, strings.Join(parts[i:], "/")); ok {
					return true
				}
			}
		}
	}
	return false
}

// TestDockerignore checks that .dockerignore keeps every file the image's
// `go build` needs (go.mod, go.sum, the Go files and embedded files of the
// binary's packages) and drops what it should.
func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	patterns := strings.Split(string(data), "\n")
	for _, p := range patterns {
		if strings.HasPrefix(strings.TrimSpace(p), "!") {
			t.Fatalf("pattern %q: exceptions are not understood by this test", p)
		}
	}
	for _, tt := range []struct {
		path    string
		ignored bool
	}{
		{".git/HEAD", true},
		{"deploy/kubernetes/deployment.yaml", true},
		{"assignd", true},
		{"deploy.test", true},
		{"policy/.DS_Store", true},
		{"go.mod", false},
		{"policy/parse.go", false},
		{"cmd/assignd/x.go", false},
	} {
		if got := dockerignored(patterns, tt.path); got != tt.ignored {
			t.Errorf("%s: ignored %v, want %v", tt.path, got, tt.ignored)
		}
	}

	if testing.Short() {
		t.Skip("lists the binary's packages with the go command; skipped with -short")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool(), "list", "-deps", "-f", `{{if not .Standard}}{{if .Module}}{{if .Module.Main}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}{{end}}{{end}}`, ".")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	needed := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		rel, err := filepath.Rel(root, f[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range f[1:] {
			needed = append(needed, filepath.ToSlash(filepath.Join(rel, file)))
		}
	}
	if len(needed) < 5 {
		t.Fatalf("go list found only %v", needed)
	}
	for _, p := range needed {
		if dockerignored(patterns, p) {
			t.Errorf(".dockerignore excludes %s, which the build needs", p)
		}
	}
}
