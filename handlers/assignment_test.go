package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/reservation"
)

// fakeUpdater records what the handler enqueues and answers with err.
type fakeUpdater struct {
	mu      sync.Mutex
	updates []reservation.Update
	err     error
}

func (f *fakeUpdater) Enqueue(u reservation.Update) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, u)
	return f.err
}

func (f *fakeUpdater) got() []reservation.Update {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]reservation.Update(nil), f.updates...)
}

// TestAssignmentEndToEnd posts real, signed callbacks over HTTP, one for each
// instruction of the test policy, and checks exactly what TaskRouter gets.
func TestAssignmentEndToEnd(t *testing.T) {
	updater := &fakeUpdater{}
	env := newTestServer(t, func(o *Options) { o.Enqueue = updater.Enqueue })
	ts := httptest.NewServer(env.srv.Handler())
	defer ts.Close()
	target := ts.URL + AssignmentPath + "?tenant=emea"

	tests := []struct {
		name       string
		taskAttrs  string
		wantBody   string
		wantUpdate bool
	}{
		{
			name:      "respond: call with templates",
			taskAttrs: `{"tier":"gold","call_sid":"CA88888888888888888888888888888888"}`,
			wantBody:  `{"instruction":"call","from":"+15005550006","to":"client:alice","url":"https://ops.example.com/twiml?task=WT55555555555555555555555555555555"}`,
		},
		{
			name:       "update: conference over REST, empty reply",
			taskAttrs:  `{"type":"conference"}`,
			wantBody:   ``,
			wantUpdate: true,
		},
		{
			name:      "respond: catch-all accept",
			taskAttrs: `{"tier":"silver"}`,
			wantBody:  `{"instruction":"accept"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(updater.got())
			form := callbackForm(tc.taskAttrs)
			resp, err := ts.Client().Do(signedRequestTo(t, testToken, target, form))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := readBody(t, resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, body %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if body != tc.wantBody {
				t.Errorf("body\n%s\nwant\n%s", body, tc.wantBody)
			}
			ups := updater.got()[before:]
			if !tc.wantUpdate {
				if len(ups) != 0 {
					t.Errorf("respond mode enqueued %v", ups)
				}
				return
			}
			want := reservation.Update{
				AccountSid:     "AC11111111111111111111111111111111",
				WorkspaceSid:   "WS22222222222222222222222222222222",
				WorkerSid:      "WK66666666666666666666666666666666",
				TaskSid:        "WT55555555555555555555555555555555",
				ReservationSid: "WR77777777777777777777777777777777",
				Rule:           "conf",
				Instruction:    policy.Instruction{Name: policy.Conference, Params: []policy.Param{{Name: "from", Value: "+15005550006"}}},
				Received:       testClock,
			}
			if len(ups) != 1 || !reflect.DeepEqual(ups[0], want) {
				t.Errorf("enqueued %+v\nwant [%+v]", ups, want)
			}
		})
	}

	if got := metricValue(t, env.reg, "assignd_callbacks_total", map[string]string{"code": "200"}); got != 3 {
		t.Errorf("assignd_callbacks_total{code=200} = %v, want 3", got)
	}
	for _, l := range []map[string]string{
		{"rule": "vip", "instruction": "call", "mode": "respond"},
		{"rule": "conf", "instruction": "conference", "mode": "update"},
		{"rule": "default", "instruction": "accept", "mode": "respond"},
	} {
		if got := metricValue(t, env.reg, "assignd_decisions_total", l); got != 1 {
			t.Errorf("assignd_decisions_total%v = %v, want 1", l, got)
		}
	}
	if got := metricValue(t, env.reg, "assignd_decision_duration_seconds", nil); got != 3 {
		t.Errorf("decision duration samples = %v, want 3", got)
	}
	if got := metricValue(t, env.reg, "assignd_callback_duration_seconds", nil); got != 3 {
		t.Errorf("callback duration samples = %v, want 3", got)
	}
}

// signedRequestTo is signedRequest for a client request (no RequestURI).
func signedRequestTo(t *testing.T, token, target string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(callback.SignatureHeader, testkit.Sign(token, target, form))
	return req
}

// TestAssignmentRefusals covers every way a callback is turned away, with the
// status and the exact JSON body.
func TestAssignmentRefusals(t *testing.T) {
	const target = "http://assignd.example.com" + AssignmentPath
	valid := func() url.Values { return callbackForm(`{}`) }
	post := func(ct, body string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		return req
	}
	// signedWith returns a signed request for form after edit changed it.
	signedWith := func(edit func(url.Values)) *http.Request {
		f := valid()
		edit(f)
		return signedRequest(testToken, target, f)
	}
	big := valid()
	big.Set("Padding", strings.Repeat("x", callback.MaxBodyBytes))

	tests := []struct {
		name      string
		req       func() *http.Request
		code      int
		body      string
		allow     string
		sigFailed bool
	}{
		{
			name: "GET is 405",
			req:  func() *http.Request { return httptest.NewRequest(http.MethodGet, target, nil) },
			code: 405, body: `{"error":"method not allowed: use POST"}`, allow: "POST",
		},
		{
			name: "PUT is 405",
			req: func() *http.Request {
				r := signedRequest(testToken, target, valid())
				r.Method = http.MethodPut
				return r
			},
			code: 405, body: `{"error":"method not allowed: use POST"}`, allow: "POST",
		},
		{
			name: "OPTIONS is 405",
			req:  func() *http.Request { return httptest.NewRequest(http.MethodOptions, target, nil) },
			code: 405, body: `{"error":"method not allowed: use POST"}`, allow: "POST",
		},
		{
			name: "JSON body is 415",
			req:  func() *http.Request { return post("application/json", `{"TaskSid":"WT1"}`) },
			code: 415, body: `{"error":"content type must be application/x-www-form-urlencoded"}`,
		},
		{
			name: "no content type is 415",
			req:  func() *http.Request { return post("", valid().Encode()) },
			code: 415, body: `{"error":"content type must be application/x-www-form-urlencoded"}`,
		},
		{
			name: "multipart is 415",
			req:  func() *http.Request { return post("multipart/form-data; boundary=x", "--x--") },
			code: 415, body: `{"error":"content type must be application/x-www-form-urlencoded"}`,
		},
		{
			name: "over 128 KiB with Content-Length is 413",
			req:  func() *http.Request { return signedRequest(testToken, target, big) },
			code: 413, body: `{"error":"body is larger than 131072 bytes"}`,
		},
		{
			name: "over 128 KiB without Content-Length is 413",
			req: func() *http.Request {
				r := signedRequest(testToken, target, big)
				r.ContentLength = -1
				return r
			},
			code: 413, body: `{"error":"body is larger than 131072 bytes"}`,
		},
		{
			name: "bad form encoding is 400",
			req:  func() *http.Request { return post("application/x-www-form-urlencoded", "TaskSid=%zz") },
			code: 400, body: `{"error":"body is not a valid form: invalid URL escape \"%zz\""}`,
		},
		{
			name: "repeated field is 400 before the signature",
			req: func() *http.Request {
				f := valid()
				f.Add("WorkerSid", "WK66666666666666666666666666666666")
				f.Add("TaskSid", "WT55555555555555555555555555555555")
				r := signedRequest(testToken, target, f)
				r.Header.Del(callback.SignatureHeader)
				return r
			},
			code: 400, body: `{"error":"field is given more than once","field":"TaskSid"}`,
		},
		{
			name: "no signature is 403",
			req: func() *http.Request {
				r := signedRequest(testToken, target, valid())
				r.Header.Del(callback.SignatureHeader)
				return r
			},
			code: 403, body: `{"error":"invalid signature"}`, sigFailed: true,
		},
		{
			name: "signed with another token is 403",
			req:  func() *http.Request { return signedRequest(testTokenNext, target, valid()) },
			code: 403, body: `{"error":"invalid signature"}`, sigFailed: true,
		},
		{
			name: "query not covered by the signature is 403",
			req: func() *http.Request {
				r := signedRequest(testToken, target, valid())
				r.URL.RawQuery = "tenant=emea"
				r.RequestURI = AssignmentPath + "?tenant=emea"
				return r
			},
			code: 403, body: `{"error":"invalid signature"}`, sigFailed: true,
		},
		{
			name: "field added after signing is 403",
			req: func() *http.Request {
				f := valid()
				r := signedRequest(testToken, target, f)
				f.Set("Extra", "1")
				r2 := httptest.NewRequest(http.MethodPost, target, strings.NewReader(f.Encode()))
				r2.Header = r.Header
				return r2
			},
			code: 403, body: `{"error":"invalid signature"}`, sigFailed: true,
		},
		{
			name: "signed but malformed SID is 400",
			req:  func() *http.Request { return signedWith(func(f url.Values) { f.Set("ReservationSid", "WR123") }) },
			code: 400, body: `{"error":"ReservationSid: \"WR123\" does not match ^WR[0-9a-fA-F]{32}$","field":"ReservationSid"}`,
		},
		{
			name: "signed but TaskAge not an integer is 400",
			req:  func() *http.Request { return signedWith(func(f url.Values) { f.Set("TaskAge", "soon") }) },
			code: 400, body: `{"error":"TaskAge: must be a non-negative integer, not \"soon\"","field":"TaskAge"}`,
		},
		{
			name: "signed but attributes not an object is 400",
			req:  func() *http.Request { return signedWith(func(f url.Values) { f.Set("TaskAttributes", "[1]") }) },
			code: 400, body: `{"error":"TaskAttributes: must be a JSON object","field":"TaskAttributes"}`,
		},
		{
			name: "signed but attributes too deep is 400",
			req: func() *http.Request {
				return signedWith(func(f url.Values) { f.Set("WorkerAttributes", hostileNested(100, false)) })
			},
			code: 400, body: `{"error":"WorkerAttributes: is nested deeper than 64 levels","field":"WorkerAttributes"}`,
		},
		{
			name: "signed but missing WorkerSid is 400",
			req:  func() *http.Request { return signedWith(func(f url.Values) { f.Del("WorkerSid") }) },
			code: 400, body: `{"error":"WorkerSid: is required","field":"WorkerSid"}`,
		},
		{
			name: "charset parameter is fine",
			req: func() *http.Request {
				r := signedRequest(testToken, target, valid())
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
				return r
			},
			code: 200, body: `{"instruction":"accept"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestServer(t, nil)
			rec := serve(env.srv.Handler(), tc.req())
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if got := rec.Body.String(); got != tc.body {
				t.Errorf("body\n%s\nwant\n%s", got, tc.body)
			}
			if got := rec.Header().Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
			wantFailures := 0.0
			if tc.sigFailed {
				wantFailures = 1
			}
			if got := metricValue(t, env.reg, "assignd_signature_failures_total", nil); got != wantFailures {
				t.Errorf("assignd_signature_failures_total = %v, want %v", got, wantFailures)
			}
			code := map[string]string{"code": strconv.Itoa(tc.code)}
			if got := metricValue(t, env.reg, "assignd_callbacks_total", code); got != 1 {
				t.Errorf("assignd_callbacks_total%v = %v, want 1", code, got)
			}
		})
	}
}

// TestAssignmentUpdateMode checks how Enqueue's answer becomes TaskRouter's.
func TestAssignmentUpdateMode(t *testing.T) {
	errOther := errors.New("updater stopped")
	tests := []struct {
		name    string
		enqueue bool
		err     error
		code    int
		body    string
	}{
		{"queued", true, nil, 200, ""},
		{"duplicate is answered like the first", true, reservation.ErrDuplicate, 200, ""},
		{"queue full sends TaskRouter to the fallback", true, reservation.ErrQueueFull, 503, `{"error":"update queue is full"}`},
		{"other error", true, errOther, 500, `{"error":"internal error"}`},
		{"no updater configured", false, nil, 503, `{"error":"no updater configured"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up := &fakeUpdater{err: tc.err}
			env := newTestServer(t, func(o *Options) {
				if tc.enqueue {
					o.Enqueue = up.Enqueue
				}
			})
			const target = "https://assign.example.com" + AssignmentPath
			rec := serve(env.srv.Handler(), signedRequest(testToken, target, callbackForm(`{"type":"conference"}`)))
			if rec.Code != tc.code || rec.Body.String() != tc.body {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body, tc.code, tc.body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if tc.enqueue && len(up.got()) != 1 {
				t.Errorf("Enqueue called %d times, want 1", len(up.got()))
			}
		})
	}
}

// TestAssignmentUnknownFieldsReachPolicy shows an undocumented field used by
// a rule as callback.Name.
func TestAssignmentUnknownFieldsReachPolicy(t *testing.T) {
	p, err := policy.Parse("fields.yaml", []byte(`version: 1
rules:
  - name: doug
    when: callback.WorkerName == "Doug" AND callback.TaskAge > 30
    instruction: reject
    params: {activity_sid: WA00000000000000000000000000000001}
  - name: default
    instruction: accept
`))
	if err != nil {
		t.Fatalf("parsing policy: %v", err)
	}
	env := newTestServer(t, nil)
	env.store.Set(p)
	form := callbackForm(`{}`)
	form.Set("WorkerName", "Doug")
	const target = "https://assign.example.com" + AssignmentPath
	rec := serve(env.srv.Handler(), signedRequest(testToken, target, form))
	want := `{"instruction":"reject","activity_sid":"WA00000000000000000000000000000001"}`
	if rec.Code != 200 || rec.Body.String() != want {
		t.Fatalf("got %d %s, want 200 %s", rec.Code, rec.Body, want)
	}
}

// TestAssignmentWithoutPolicy: before the first policy loads, callbacks get
// 503 and TaskRouter uses the fallback URL.
func TestAssignmentWithoutPolicy(t *testing.T) {
	env := newTestServer(t, func(o *Options) {
		o.Store = newStore(t, prometheus.NewRegistry())
	})
	const target = "https://assign.example.com" + AssignmentPath
	rec := serve(env.srv.Handler(), signedRequest(testToken, target, callbackForm(`{}`)))
	if rec.Code != 503 || rec.Body.String() != `{"error":"no policy loaded"}` {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
}

// TestAssignmentDevMode: no signature needed, but everything else is checked.
func TestAssignmentDevMode(t *testing.T) {
	env := newTestServer(t, func(o *Options) { o.Config = &config.Config{Dev: true} })
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080"+AssignmentPath, strings.NewReader(callbackForm(`{"tier":"gold"}`).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := serve(env.srv.Handler(), req)
	if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), `{"instruction":"call"`) {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	req = httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080"+AssignmentPath, strings.NewReader("TaskAge=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if rec := serve(env.srv.Handler(), req); rec.Code != 400 {
		t.Fatalf("malformed callback in dev mode: got %d %s", rec.Code, rec.Body)
	}
}

// TestAssignmentLogging pins the one line per callback, what only debug
// adds, and that no token is ever logged.
func TestAssignmentLogging(t *testing.T) {
	for _, level := range []zapcore.Level{zapcore.InfoLevel, zapcore.DebugLevel} {
		t.Run(level.String(), func(t *testing.T) {
			core, logs := observer.New(level)
			env := newTestServer(t, func(o *Options) {
				o.Logger = zap.New(core)
				o.Config = &config.Config{AuthToken: testToken, AuthTokenSecondary: testTokenNext}
			})
			const target = "https://assign.example.com" + AssignmentPath
			rec := serve(env.srv.Handler(), signedRequest(testToken, target, callbackForm(`{"tier":"gold","from":"+14155550100"}`)))
			if rec.Code != 200 {
				t.Fatalf("status %d %s", rec.Code, rec.Body)
			}
			lines := logs.FilterMessage("callback decided").All()
			if len(lines) != 1 {
				t.Fatalf("%d 'callback decided' lines, want 1", len(lines))
			}
			got := lines[0].ContextMap()
			for k, want := range map[string]any{
				"reservation_sid": "WR77777777777777777777777777777777",
				"task_sid":        "WT55555555555555555555555555555555",
				"worker_sid":      "WK66666666666666666666666666666666",
				"rule":            "vip",
				"instruction":     "call",
				"mode":            "respond",
				"policy_hash":     env.store.Current().Hash(),
			} {
				if got[k] != want {
					t.Errorf("%s = %v, want %v", k, got[k], want)
				}
			}
			if _, ok := got["decision_seconds"]; !ok {
				t.Errorf("no decision_seconds")
			}
			if lines[0].LoggerName != "callback" {
				t.Errorf("logger %q, want callback", lines[0].LoggerName)
			}

			detail := logs.FilterMessage("callback detail").All()
			if level == zapcore.DebugLevel {
				if len(detail) != 1 || detail[0].ContextMap()["task_attributes"] == nil || detail[0].ContextMap()["params"] == nil {
					t.Errorf("debug detail missing: %v", detail)
				}
			} else if len(detail) != 0 {
				t.Errorf("attributes logged at %s", level)
			}
			for _, e := range logs.All() {
				for k, v := range e.ContextMap() {
					s := fmt.Sprint(v)
					if strings.Contains(s, testToken) || strings.Contains(s, testTokenNext) {
						t.Errorf("a token is logged in %s of %q", k, e.Message)
					}
					if level == zapcore.InfoLevel && strings.Contains(s, "+14155550100") {
						t.Errorf("a phone number is logged at info in %s of %q", k, e.Message)
					}
				}
			}
		})
	}
}

// TestAssignmentDebugLogRedactsSecrets: the per-callback debug line shows a
// SIP password as policy.RedactedValue, while the update TaskRouter gets
// still carries the password itself.
func TestAssignmentDebugLogRedactsSecrets(t *testing.T) {
	const password = "hunter2-do-not-log"
	p, err := policy.Parse("sip.yaml", []byte(`version: 1
rules:
  - name: sip
    instruction: conference
    params:
      from: "+15005550006"
      sip_auth_username: agent
      sip_auth_password: `+password+`
`))
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	up := &fakeUpdater{}
	env := newTestServer(t, func(o *Options) {
		o.Logger = zap.New(core)
		o.Enqueue = up.Enqueue
	})
	env.store.Set(p)
	const target = "https://assign.example.com" + AssignmentPath
	if rec := serve(env.srv.Handler(), signedRequest(testToken, target, callbackForm(`{}`))); rec.Code != 200 {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	detail := logs.FilterMessage("callback detail").All()
	if len(detail) != 1 {
		t.Fatalf("%d 'callback detail' lines, want 1", len(detail))
	}
	params, _ := detail[0].ContextMap()["params"].(map[string]any)
	if params["sip_auth_password"] != policy.RedactedValue || params["sip_auth_username"] != "agent" {
		t.Errorf("debug params = %v, want the password as %q and the username as is", params, policy.RedactedValue)
	}
	for _, e := range logs.All() {
		if strings.Contains(fmt.Sprint(e.ContextMap()), password) {
			t.Errorf("the SIP password is logged in %q", e.Message)
		}
	}
	got := up.got()
	if len(got) != 1 {
		t.Fatalf("%d updates, want 1", len(got))
	}
	if v, _ := got[0].Instruction.Get("sip_auth_password"); v != password {
		t.Errorf("update carries sip_auth_password %v, want the real one", v)
	}
}

// TestSignatureFailuresRateLimited: a flood of bad signatures is counted in
// full but logged only a few times.
func TestSignatureFailuresRateLimited(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	env := newTestServer(t, func(o *Options) { o.Logger = zap.New(core) })
	const target = "https://assign.example.com" + AssignmentPath
	const n = 50
	for range n {
		rec := serve(env.srv.Handler(), signedRequest(testTokenNext, target, callbackForm(`{}`)))
		if rec.Code != 403 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if got := metricValue(t, env.reg, "assignd_signature_failures_total", nil); got != n {
		t.Errorf("assignd_signature_failures_total = %v, want %d", got, n)
	}
	warns := logs.FilterMessage("invalid signature").All()
	if len(warns) == 0 || len(warns) > 6 {
		t.Fatalf("%d warn lines for %d failures, want 1..6", len(warns), n)
	}
	if u := warns[0].ContextMap()["url"]; u != target {
		t.Errorf("logged url %v, want %s", u, target)
	}
}

// TestAssignmentRuleSkips: a rule that matches but cannot render is passed
// over, counted and warned about.
func TestAssignmentRuleSkips(t *testing.T) {
	env := newTestServer(t, nil)
	const target = "https://assign.example.com" + AssignmentPath
	form := callbackForm(`{"tier":"gold"}`)
	form.Set("WorkerAttributes", `{}`) // no contact_uri for {{worker.contact_uri}}
	rec := serve(env.srv.Handler(), signedRequest(testToken, target, form))
	if rec.Code != 200 || rec.Body.String() != `{"instruction":"accept"}` {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	if got := metricValue(t, env.reg, "assignd_rule_skips_total", map[string]string{"rule": "vip", "reason": "render"}); got != 1 {
		t.Errorf("assignd_rule_skips_total{rule=vip,reason=render} = %v, want 1", got)
	}
}

// TestAssignmentPanic: a panic becomes a JSON 500, and the server lives on.
func TestAssignmentPanic(t *testing.T) {
	env := newTestServer(t, func(o *Options) {
		o.Enqueue = func(reservation.Update) error { panic("boom") }
	})
	const target = "https://assign.example.com" + AssignmentPath
	rec := serve(env.srv.Handler(), signedRequest(testToken, target, callbackForm(`{"type":"conference"}`)))
	if rec.Code != 500 || rec.Body.String() != `{"error":"internal error"}` || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if got := metricValue(t, env.reg, "assignd_callbacks_total", map[string]string{"code": "500"}); got != 1 {
		t.Errorf("assignd_callbacks_total{code=500} = %v, want 1", got)
	}
}

// TestAfterDecisionSeesEveryAnsweredCallback checks that the observer hook
// runs once per decided callback, after the answer is written, with the
// decision TaskRouter got; and that refused callbacks never reach it.
func TestAfterDecisionSeesEveryAnsweredCallback(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	updater := &fakeUpdater{}
	env := newTestServer(t, func(o *Options) {
		o.Enqueue = updater.Enqueue
		o.AfterDecision = func(d *callback.Decided) {
			mu.Lock()
			defer mu.Unlock()
			if d.Policy == nil || d.Input == nil || d.Callback == nil {
				t.Errorf("incomplete Decided %+v", d)
			}
			seen = append(seen, d.Decision.Rule+"/"+string(d.Decision.Mode)+"/"+d.Callback.ReservationSid)
		}
	})
	ts := httptest.NewServer(env.srv.Handler())
	defer ts.Close()
	target := ts.URL + AssignmentPath + "?tenant=emea"
	for _, attrs := range []string{`{"type":"conference"}`, `{"tier":"silver"}`} {
		resp, err := ts.Client().Do(signedRequestTo(t, testToken, target, callbackForm(attrs)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// A bad signature is refused before any decision.
	resp, err := ts.Client().Do(signedRequestTo(t, "wrong-token", target, callbackForm(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	want := []string{"conf/update/WR77777777777777777777777777777777", "default/respond/WR77777777777777777777777777777777"}
	if !slices.Equal(seen, want) {
		t.Errorf("AfterDecision saw %q, want %q", seen, want)
	}
}

// TestCallbackListenerCountsOtherPaths: the callback listener's handlers
// are wrapped per route, not with Echo's Use, so a path other than the
// assignment callback must still be answered 404 and counted.
func TestCallbackListenerCountsOtherPaths(t *testing.T) {
	env := newTestServer(t, nil)
	for i, tc := range []struct{ method, path string }{
		{http.MethodGet, "/"},
		{http.MethodPost, "/nope"},
		{http.MethodDelete, AssignmentPath + "/more"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := serve(env.srv.Handler(), httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != http.StatusNotFound || rec.Body.String() != `{"error":"not found"}` {
				t.Errorf("got %d %s, want 404 {\"error\":\"not found\"}", rec.Code, rec.Body)
			}
			if got := metricValue(t, env.reg, "assignd_callbacks_total", map[string]string{"code": "404"}); got != float64(i+1) {
				t.Errorf("assignd_callbacks_total{code=404} = %v, want %d", got, i+1)
			}
		})
	}
}
