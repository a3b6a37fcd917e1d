package admin

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/net/html"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/explain"
	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/internal/httpserver"
	"github.com/assignd/assignd/policy"
)

// consoleSecretPolicy has an update-mode dequeue and a SIP conference whose
// password must never be shown.
const consoleSecretPolicy = `version: 1
rules:
  - name: update-dequeue
    when: task.kind == "update"
    instruction: dequeue
    mode: update
    params: {from: "+15005550006", to: "client:bob", timeout: 30}
  - name: sip
    when: worker.contact_uri CONTAINS "sip:"
    instruction: conference
    params:
      to: "{{worker.contact_uri}}"
      from: "+15005550006"
      sip_auth_username: agent
      sip_auth_password: hunter2-do-not-print
  - name: default
    instruction: accept
`

// consoleEnv is a dev-mode callback listener and an admin Server with the console, running src (the
// embedded example when empty), served by httptest.
type consoleEnv struct {
	callback, admin *httptest.Server
	decisions       *DecisionLog
}

func newConsoleEnv(t *testing.T, src string) *consoleEnv {
	t.Helper()
	name, raw := policy.ExampleName, policy.Example()
	if src != "" {
		name, raw = "console-policy.yaml", []byte(src)
	}
	p, err := policy.Parse(name, raw)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	store := newStore(t, reg)
	store.Set(p)
	log := NewDecisionLog()
	cb, err := handlers.New(handlers.Options{Store: store, Config: &config.Config{Dev: true}, Logger: zap.NewNop(), Registerer: reg,
		AfterDecision: log.Observe})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Store: store, Logger: zap.NewNop(), Gatherer: reg,
		Console: &Console{Explain: explain.JSON, Decisions: log, Started: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	env := &consoleEnv{callback: httptest.NewServer(cb.Handler()), admin: httptest.NewServer(srv.Handler()), decisions: log}
	t.Cleanup(env.callback.Close)
	t.Cleanup(env.admin.Close)
	return env
}

// postJSON posts body to the admin listener with contentType.
func (e *consoleEnv) post(t *testing.T, path, contentType, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.admin.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// explainAnswer is the part of explain's report the tests check.
type explainAnswer struct {
	Rule        string              `json:"rule"`
	Index       int                 `json:"index"`
	Mode        string              `json:"mode"`
	Instruction string              `json:"instruction"`
	Params      map[string]any      `json:"params"`
	Reply       json.RawMessage     `json:"reply"`
	RESTForm    map[string][]string `json:"rest_form"`
	Steps       []policy.Step       `json:"steps"`
}

func TestExplainAPIEveryInstruction(t *testing.T) {
	example := newConsoleEnv(t, "")
	secret := newConsoleEnv(t, consoleSecretPolicy)
	const noon = "2026-11-30T17:00:00Z" // 12:00 in the example's New York
	for _, tc := range []struct {
		name, body  string
		env         *consoleEnv
		rule, instr string
		mode        string
		replyHas    string            // in the reply, for respond mode
		restForm    map[string]string // in the REST form, for update mode
	}{
		{name: "reject", env: example, body: `{"task":{"blocked":true},"now":"` + noon + `"}`,
			rule: "blocked-caller", instr: "reject", mode: "respond", replyHas: `"activity_sid":"WA00000000000000000000000000000001"`},
		{name: "conference, update mode", env: example, body: `{"task":{"language":"es","tier":"gold","to":"+15005550007"},"now":"` + noon + `"}`,
			rule: "vip-spanish", instr: "conference", mode: "update",
			restForm: map[string]string{"Instruction": "conference", "ConferenceRecord": "record-from-start", "From": "+15005550007", "EndConferenceOnCustomerExit": "true"}},
		{name: "call", env: example, body: `{"task":{"type":"callback"},"worker":{"contact_uri":"client:alice"},"now":"` + noon + `"}`,
			rule: "callbacks", instr: "call", mode: "respond", replyHas: `"to":"client:alice"`},
		{name: "redirect", env: example, body: `{"task":{"call_sid":"CA0123456789abcdef0123456789abcdef"},"now":"2026-11-30T03:00:00Z"}`,
			rule: "after-hours", instr: "redirect", mode: "respond", replyHas: `"call_sid":"CA0123456789abcdef0123456789abcdef"`},
		{name: "accept", env: example, body: `{"task":{"channel":"chat"},"now":"` + noon + `"}`,
			rule: "digital", instr: "accept", mode: "respond", replyHas: `"instruction":"accept"`},
		{name: "dequeue", env: example, body: `{"now":"` + noon + `"}`,
			rule: "default", instr: "dequeue", mode: "respond", replyHas: `"post_work_activity_sid":"WA0123456789abcdef0123456789abcdef"`},
		{name: "dequeue, fields set", env: example, body: `{"task":{},"fields":{"TaskPriority":"10"},"now":"` + noon + `"}`,
			rule: "default", instr: "dequeue", mode: "respond", replyHas: `"instruction":"dequeue"`},
		{name: "captured callback", env: example, body: `{"callback":"` + consoleCallback(`{"channel":"email"}`).Encode() + `","now":"` + noon + `"}`,
			rule: "digital", instr: "accept", mode: "respond", replyHas: `"instruction":"accept"`},
		{name: "dequeue, update mode", env: secret, body: `{"task":{"kind":"update"}}`,
			rule: "update-dequeue", instr: "dequeue", mode: "update",
			restForm: map[string]string{"Instruction": "dequeue", "DequeueFrom": "+15005550006", "DequeueTo": "client:bob", "DequeueTimeout": "30"}},
		{name: "conference, secret redacted", env: secret, body: `{"worker":{"contact_uri":"sip:alice@example.com"}}`,
			rule: "sip", instr: "conference", mode: "update",
			restForm: map[string]string{"Instruction": "conference", "SipAuthPassword": policy.RedactedValue, "SipAuthUsername": "agent", "To": "sip:alice@example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := tc.env.post(t, "/-/explain", "application/json", tc.body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			if strings.Contains(body, "hunter2") {
				t.Errorf("the SIP password is in the answer:\n%s", body)
			}
			var got explainAnswer
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("answer is not JSON: %v\n%s", err, body)
			}
			if got.Rule != tc.rule || got.Instruction != tc.instr || got.Mode != tc.mode {
				t.Errorf("got rule %q %s %s, want %q %s %s", got.Rule, got.Instruction, got.Mode, tc.rule, tc.instr, tc.mode)
			}
			if last := got.Steps[got.Index-1]; last.Rule != tc.rule || last.Result != "matched" {
				t.Errorf("step %d = %+v, want %q matched", got.Index, last, tc.rule)
			}
			var reply bytes.Buffer
			json.Compact(&reply, got.Reply)
			if tc.replyHas != "" && !strings.Contains(reply.String(), tc.replyHas) {
				t.Errorf("reply %s lacks %s", got.Reply, tc.replyHas)
			}
			if tc.mode == "update" && string(got.Reply) != "null" {
				t.Errorf("update mode reply = %s, want null", got.Reply)
			}
			for k, v := range tc.restForm {
				if vs := got.RESTForm[k]; len(vs) != 1 || vs[0] != v {
					t.Errorf("rest_form[%s] = %q, want %q (form %v)", k, vs, v, got.RESTForm)
				}
			}
			if tc.restForm == nil && got.RESTForm != nil {
				t.Errorf("respond mode has a REST form: %v", got.RESTForm)
			}
		})
	}
}

// consoleCallback is a whole callback form with the given task attributes.
func consoleCallback(task string) url.Values {
	return url.Values{
		"AccountSid": {"AC11111111111111111111111111111111"}, "WorkspaceSid": {"WS22222222222222222222222222222222"},
		"TaskSid": {"WT55555555555555555555555555555555"}, "WorkerSid": {"WK66666666666666666666666666666666"},
		"ReservationSid": {"WR0123456789abcdef0123456789abcdef"}, "TaskAttributes": {task},
		"WorkerAttributes": {`{"contact_uri":"client:alice"}`},
		"TaskAge":          {"5"}, "TaskPriority": {"0"}, "TaskQueueSid": {"WQ77777777777777777777777777777777"},
		"WorkflowSid": {"WW88888888888888888888888888888888"}, "Timestamp": {"1764670000"},
	}
}

func TestExplainAPIBadInput(t *testing.T) {
	env := newConsoleEnv(t, "")
	for _, tc := range []struct {
		name, contentType, body string
		code                    int
		field                   string
		errHas                  []string
	}{
		{"malformed JSON", "application/json", `{"task": {`, 400, "", []string{"malformed JSON"}},
		{"empty body", "application/json", ``, 400, "", []string{"malformed JSON"}},
		{"not an object", "application/json", `[1]`, 400, "", []string{"malformed JSON"}},
		{"unknown fields named", "application/json", `{"tsk":{},"zz":1,"task":{}}`, 400, "", []string{`"tsk"`, `"zz"`, "unknown fields"}},
		{"task not an object", "application/json", `{"task":"{}"}`, 400, "task", []string{"task: must be a JSON object"}},
		{"worker malformed inside", "application/json", `{"worker":[1,2]}`, 400, "worker", []string{"worker: must be a JSON object"}},
		{"fields not strings", "application/json", `{"fields":{"TaskPriority":10}}`, 400, "fields", []string{"fields: must be an object of strings"}},
		{"now not RFC 3339", "application/json", `{"now":"tomorrow"}`, 400, "now", []string{"now: not an RFC 3339 time"}},
		{"callback and task", "application/json", `{"callback":"TaskSid=WT1","task":{}}`, 400, "callback", []string{"not both"}},
		{"malformed callback", "application/json", `{"callback":"TaskAttributes=%7Bnope"}`, 400, "", []string{"malformed callback"}},
		{"callback over serve's field limit", "application/json", `{"callback":"` + strings.Repeat("a=1&", callback.MaxFormFields) + `b=2"}`, 400, "callback", []string{"more than 100 fields"}},
		{"callback field without a name", "application/json", `{"callback":"=x&TaskSid=WT1"}`, 400, "callback", []string{"a field has no name"}},
		{"oversized", "application/json", `{"task":{"x":"` + strings.Repeat("a", callback.MaxBodyBytes) + `"}}`, 413, "", []string{"request body over 131072 bytes"}},
		{"form content type", "application/x-www-form-urlencoded", `task=%7B%7D`, 415, "", []string{"content-type must be application/json"}},
		{"text content type", "text/plain", `{}`, 415, "", []string{"content-type must be application/json"}},
		{"no content type", "", `{}`, 415, "", []string{"content-type must be application/json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := env.post(t, "/-/explain", tc.contentType, tc.body)
			if res.StatusCode != tc.code {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.code, body)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			var e httpserver.ErrorBody
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("error body is not JSON: %v: %s", err, body)
			}
			if e.Field != tc.field {
				t.Errorf("field = %q, want %q (%s)", e.Field, tc.field, e.Error)
			}
			for _, s := range tc.errHas {
				if !strings.Contains(e.Error, s) {
					t.Errorf("error %q lacks %q", e.Error, s)
				}
			}
		})
	}
	t.Run("charset accepted", func(t *testing.T) {
		if res, body := env.post(t, "/-/explain", "application/json; charset=utf-8", `{}`); res.StatusCode != 200 {
			t.Errorf("status %d: %s", res.StatusCode, body)
		}
	})
}

func TestReloadRequiresJSON(t *testing.T) {
	_, _, _, admin := newPolicyAdminServer(t, adminPolicyA)
	for _, tc := range []struct {
		contentType string
		code        int
	}{{"", 415}, {"application/x-www-form-urlencoded", 415}, {"text/plain", 415}, {"application/json", 200}} {
		res, err := http.Post(admin.URL+"/-/reload", tc.contentType, nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.code || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Content-Type %q: %d, Cache-Control %q; want %d, no-store", tc.contentType, res.StatusCode, res.Header.Get("Cache-Control"), tc.code)
		}
	}
}

// getPage fetches the console page and checks its headers.
func getPage(t *testing.T, env *consoleEnv) string {
	t.Helper()
	res, err := http.Get(env.admin.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if got := res.Header.Get("Content-Security-Policy"); got != ConsoleCSP {
		t.Errorf("Content-Security-Policy = %q", got)
	}
	return string(b)
}

func TestConsolePage(t *testing.T) {
	env := newConsoleEnv(t, consoleSecretPolicy)
	page := getPage(t, env)
	for _, want := range []string{"update-dequeue", "sip", "default", `task.kind == &#34;update&#34;`, policy.RedactedValue,
		`href="/metrics"`, `href="/-/policy"`, `href="/readyz"`, "No callbacks yet."} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "hunter2") {
		t.Error("the page shows the SIP password")
	}

	form := consoleCallback(`{"kind":"x","phone":"+15551234567"}`)
	res, err := http.PostForm(env.callback.URL+handlers.AssignmentPath, form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	page = getPage(t, env)
	if !strings.Contains(page, "WR0123456789abcdef0123456789abcdef") {
		t.Error("the answered callback is not in recent decisions")
	}
	if strings.Contains(page, "+15551234567") {
		t.Error("recent decisions show attributes")
	}
	if c := env.decisions.Counts("default"); c.Decisions != 1 {
		t.Errorf("default decided %d times, want 1", c.Decisions)
	}

	for path, ctype := range map[string]string{"/console/console.js": "text/javascript", "/console/console.css": "text/css"} {
		res, err := http.Get(env.admin.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), ctype) {
			t.Errorf("GET %s = %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
}

// TestConsoleAccessibleAndStrict checks the page's HTML: a lang attribute,
// a label for every control, scoped table headers, and nothing inline that
// the Content-Security-Policy would block.
func TestConsoleAccessibleAndStrict(t *testing.T) {
	doc, err := html.Parse(strings.NewReader(getPage(t, newConsoleEnv(t, ""))))
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]bool{}
	var controls []string
	var problems []string
	hasLang, tables := false, 0
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := map[string]string{}
			for _, at := range n.Attr {
				a[at.Key] = at.Val
			}
			if _, ok := a["style"]; ok {
				problems = append(problems, "inline style attribute on <"+n.Data+">")
			}
			for k := range a {
				if strings.HasPrefix(k, "on") {
					problems = append(problems, "inline handler "+k+" on <"+n.Data+">")
				}
			}
			switch n.Data {
			case "html":
				hasLang = a["lang"] != ""
			case "label":
				labels[a["for"]] = true
			case "input", "textarea", "select":
				controls = append(controls, a["id"])
			case "th":
				if a["scope"] != "col" && a["scope"] != "row" {
					problems = append(problems, "<th> without scope")
				}
			case "table":
				tables++
			case "style":
				problems = append(problems, "<style> element")
			case "script":
				if a["src"] == "" || n.FirstChild != nil {
					problems = append(problems, "inline script")
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if !hasLang {
		problems = append(problems, "no lang attribute on <html>")
	}
	if len(controls) < 5 || tables < 3 {
		problems = append(problems, "the page lacks its form or tables")
	}
	for _, id := range controls {
		if id == "" || !labels[id] {
			problems = append(problems, "control "+id+" has no label")
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
}

func TestDecisionLogRing(t *testing.T) {
	l := NewDecisionLog()
	if got := l.Recent(); len(got) != 0 {
		t.Fatalf("new log has %d decisions", len(got))
	}
	for i := range RecentSize + 50 {
		rule := "a"
		if i%2 == 1 {
			rule = "b"
		}
		l.Observe(&callback.Decided{Callback: &callback.Callback{ReservationSid: "WR" + strings.Repeat("0", 3) + string(rune('0'+i%10))},
			Decision: &policy.Decision{Rule: rule, Instruction: policy.Instruction{Name: "accept"}, Mode: policy.Respond,
				Skipped: []policy.Skip{{Rule: "c"}}},
			Received: time.Unix(int64(i), 0)})
	}
	got := l.Recent()
	if len(got) != RecentSize {
		t.Fatalf("kept %d, want %d", len(got), RecentSize)
	}
	if got[0].At.Unix() != RecentSize+49 || got[RecentSize-1].At.Unix() != 50 {
		t.Errorf("newest %d, oldest %d; want %d, 50", got[0].At.Unix(), got[RecentSize-1].At.Unix(), RecentSize+49)
	}
	if a, b, c := l.Counts("a"), l.Counts("b"), l.Counts("c"); a.Decisions != 125 || b.Decisions != 125 || c.Skips != 250 || c.Decisions != 0 {
		t.Errorf("counts a %+v b %+v c %+v", a, b, c)
	}
}
