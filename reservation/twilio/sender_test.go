package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/reservation"
)

const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testWS      = "WS0123456789abcdef0123456789abcdef"
	testWK      = "WK0123456789abcdef0123456789abcdef"
	testWT      = "WT0123456789abcdef0123456789abcdef"
	testWA      = "WA0123456789abcdef0123456789abcdef"
	testCA      = "CA0123456789abcdef0123456789abcdef"
)

// testWR returns a valid reservation SID numbered n.
func testWR(n int) string { return fmt.Sprintf("WR%032x", n) }

// reply is one scripted answer of the fake TaskRouter.
type reply struct {
	status     int    // 0 means 200 with a reservation body
	code       int    // Twilio error code for error statuses
	message    string // Twilio error message
	retryAfter string // Retry-After header, if any
	delay      time.Duration
	drop       bool // close the connection without answering
	// lands makes a reply take effect even if the client has gone: later
	// requests for the reservation then get 400 not pending, as TaskRouter
	// answers after an earlier try succeeded. Every 200 lands.
	lands bool
}

var (
	replyOK         = reply{}
	replyNotPending = reply{status: 400, code: 20001, message: "Reservation WR… is not currently in a Pending state."}
)

// gotRequest is one request the fake received.
type gotRequest struct {
	path string
	form url.Values
	at   time.Time
}

// fakeTaskRouter is a fake TaskRouter: it checks every request against the
// OpenAPI spec, records it, and answers from a per-reservation script; past
// the script's end it repeats the last step.
type fakeTaskRouter struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	scripts map[string][]reply
	landed  map[string]bool
	got     map[string][]gotRequest
}

func newFakeTaskRouter(t testing.TB) *fakeTaskRouter {
	t.Helper()
	f := &fakeTaskRouter{t: t, scripts: map[string][]reply{}, landed: map[string]bool{}, got: map[string][]gotRequest{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTaskRouter) script(sid string, steps ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripts[sid] = steps
}

func (f *fakeTaskRouter) requests(sid string) []gotRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]gotRequest(nil), f.got[sid]...)
}

func (f *fakeTaskRouter) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("fake taskrouter: parsing form: %v", err)
	}
	specCheckRequest(f.t, r, r.PostForm)
	sid := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	step := f.next(sid, r.URL.Path, r.PostForm, at)

	if step.drop {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			f.t.Errorf("fake taskrouter: hijack: %v", err)
			return
		}
		conn.Close()
		return
	}
	if step.delay > 0 {
		select {
		case <-time.After(step.delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if step.retryAfter != "" {
		w.Header().Set("Retry-After", step.retryAfter)
	}
	if step.status == 0 || step.status == 200 {
		f.land(sid)
		fmt.Fprint(w, reservationBody(r.URL.Path, r.PostForm.Get("ReservationStatus")))
		return
	}
	w.WriteHeader(step.status)
	fmt.Fprintf(w, `{"code": %d, "message": %q, "more_info": "https://www.twilio.com/docs/errors/%d", "status": %d}`,
		step.code, step.message, step.code, step.status)
}

// next records a request and picks its scripted answer.
func (f *fakeTaskRouter) next(sid, path string, form url.Values, at time.Time) reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.got[sid])
	f.got[sid] = append(f.got[sid], gotRequest{path: path, form: form, at: at})
	step := replyOK
	if s := f.scripts[sid]; len(s) > 0 {
		step = s[min(n, len(s)-1)]
	}
	if f.landed[sid] {
		step = replyNotPending
	}
	if step.lands {
		f.landed[sid] = true
	}
	return step
}

// land marks a reservation updated: like TaskRouter, the fake then answers
// later requests for it with 400 not pending.
func (f *fakeTaskRouter) land(sid string) {
	f.mu.Lock()
	f.landed[sid] = true
	f.mu.Unlock()
}

// sendDirect is a Send that plays the fake's script in memory, with the
// errors NewSender would return, for runs too large for loopback
// HTTP under the race detector.
func (f *fakeTaskRouter) sendDirect(ctx context.Context, up reservation.Update) error {
	step := f.next(up.ReservationSid, "", nil, time.Now())
	if step.drop {
		return errors.New("sending reservation update: connection reset by peer")
	}
	if step.delay > 0 {
		t := time.NewTimer(step.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("sending reservation update: %w", ctx.Err())
		}
	}
	if step.status == 0 || step.status == 200 {
		f.land(up.ReservationSid)
		return nil
	}
	return &reservation.RESTError{Status: step.status, Code: step.code, Message: step.message, RetryAfter: parseRetryAfter(step.retryAfter, time.Now())}
}

// reservationBody is a worker_reservation as the spec's example has it.
func reservationBody(path, status string) string {
	parts := strings.Split(path, "/")
	ws, wk, wr := parts[3], parts[5], parts[7]
	if status == "" {
		status = "accepted"
	}
	base := "https://taskrouter.twilio.com/v1/Workspaces/" + ws
	return fmt.Sprintf(`{"account_sid": %q, "date_created": "2014-05-14T10:50:02Z", "date_updated": "2014-05-15T16:03:42Z",`+
		` "links": {"task": %q, "worker": %q, "workspace": %q}, "reservation_status": %q, "sid": %q,`+
		` "task_sid": %q, "url": %q, "worker_name": "Doug", "worker_sid": %q, "workspace_sid": %q}`,
		testAccount, base+"/Tasks/"+testWT, base+"/Workers/"+wk, base, status, wr,
		testWT, base+"/Workers/"+wk+"/Reservations/"+wr, wk, ws)
}

// testConfig is a configuration pointing at the fake with API-key credentials.
func testConfig(t testing.TB, taskRouterURL string) *config.Config {
	t.Helper()
	// twilio-go would send to an edge or region host if these were set;
	// the transport rewrites the host anyway, but keep the test hermetic.
	t.Setenv("TWILIO_EDGE", "")
	t.Setenv("TWILIO_REGION", "")
	return &config.Config{
		AccountSid:        testAccount,
		APIKey:            testUser,
		APISecret:         testPass,
		TaskRouterURL:     taskRouterURL,
		UpdateConcurrency: 16,
	}
}

func testUpdate(n int, in policy.Instruction) reservation.Update {
	return reservation.Update{
		AccountSid:     testAccount,
		WorkspaceSid:   testWS,
		WorkerSid:      testWK,
		TaskSid:        testWT,
		ReservationSid: testWR(n),
		Rule:           "test-rule",
		Instruction:    in,
		Received:       time.Now(),
	}
}

func p(name string, v any) policy.Param { return policy.Param{Name: name, Value: v} }

// TestRESTInstructionForms sends each instruction with every parameter it
// has through the real twilio-go client and asserts the exact form the fake
// received; the fake also holds each request against the spec.
func TestRESTInstructionForms(t *testing.T) {
	cases := []struct {
		name string
		in   policy.Instruction
		want url.Values
	}{
		{
			name: "accept",
			in:   policy.Instruction{Name: policy.Accept},
			want: url.Values{"ReservationStatus": {"accepted"}},
		},
		{
			name: "reject",
			in:   policy.Instruction{Name: policy.Reject, Params: []policy.Param{p("activity_sid", testWA)}},
			want: url.Values{"ReservationStatus": {"rejected"}, "WorkerActivitySid": {testWA}},
		},
		{
			name: "reject without activity",
			in:   policy.Instruction{Name: policy.Reject},
			want: url.Values{"ReservationStatus": {"rejected"}},
		},
		{
			name: "dequeue",
			in: policy.Instruction{Name: policy.Dequeue, Params: []policy.Param{
				p("from", "+18001231234"),
				p("to", "client:joey"),
				p("post_work_activity_sid", testWA),
				p("record", "record-from-answer"),
				p("timeout", 30),
				p("status_callback_url", "https://example.com/dequeue-status"),
				p("status_callback_event", []string{"initiated", "answered", "completed"}),
			}},
			want: url.Values{
				"Instruction":                {"dequeue"},
				"DequeueFrom":                {"+18001231234"},
				"DequeueTo":                  {"client:joey"},
				"DequeuePostWorkActivitySid": {testWA},
				"DequeueRecord":              {"record-from-answer"},
				"DequeueTimeout":             {"30"},
				"DequeueStatusCallbackUrl":   {"https://example.com/dequeue-status"},
				"DequeueStatusCallbackEvent": {"initiated", "answered", "completed"},
			},
		},
		{
			name: "call",
			in: policy.Instruction{Name: policy.Call, Params: []policy.Param{
				p("from", "+15558675309"),
				p("to", "client:joey"),
				p("url", "https://example.com/agent_answer"),
				p("accept", true),
				p("record", "do-not-record"),
				p("timeout", 45),
				p("status_callback_url", "https://example.com/agent_status"),
			}},
			want: url.Values{
				"Instruction":           {"call"},
				"CallFrom":              {"+15558675309"},
				"CallTo":                {"client:joey"},
				"CallUrl":               {"https://example.com/agent_answer"},
				"CallAccept":            {"true"},
				"CallRecord":            {"do-not-record"},
				"CallTimeout":           {"45"},
				"CallStatusCallbackUrl": {"https://example.com/agent_status"},
			},
		},
		{
			name: "redirect",
			in: policy.Instruction{Name: policy.Redirect, Params: []policy.Param{
				p("call_sid", testCA),
				p("url", "https://example.com/redirect"),
				p("accept", false),
			}},
			want: url.Values{
				"Instruction":     {"redirect"},
				"RedirectCallSid": {testCA},
				"RedirectUrl":     {"https://example.com/redirect"},
				"RedirectAccept":  {"false"},
			},
		},
		{
			name: "conference",
			in: policy.Instruction{Name: policy.Conference, Params: []policy.Param{
				p("to", "client:joey"),
				p("from", "+18001231234"),
				p("post_work_activity_sid", testWA),
				p("timeout", 20),
				p("status_callback", "https://example.com/status"),
				p("status_callback_method", "GET"),
				p("status_callback_event", []string{"initiated", "ringing", "answered", "completed"}),
				p("record", true),
				p("muted", false),
				p("beep", "onEnter"),
				p("start_conference_on_enter", true),
				p("end_conference_on_exit", false),
				p("end_conference_on_customer_exit", true),
				p("beep_on_customer_entrance", false),
				p("wait_url", "https://example.com/hold.mp3"),
				p("wait_method", "GET"),
				p("early_media", true),
				p("max_participants", 10),
				p("conference_status_callback", "https://example.com/conf"),
				p("conference_status_callback_method", "POST"),
				p("conference_status_callback_event", []string{"start", "end", "join", "leave", "mute", "hold", "speaker"}),
				p("conference_record", "record-from-start"),
				p("conference_trim", "do-not-trim"),
				p("recording_channels", "dual"),
				p("recording_status_callback", "https://example.com/rec"),
				p("recording_status_callback_method", "GET"),
				p("conference_recording_status_callback", "https://example.com/confrec"),
				p("conference_recording_status_callback_method", "POST"),
				p("region", "ie1"),
				p("sip_auth_username", "agent"),
				p("sip_auth_password", "s3cret"),
				p("jitter_buffer_size", "small"),
			}},
			want: url.Values{
				"Instruction":                       {"conference"},
				"To":                                {"client:joey"},
				"From":                              {"+18001231234"},
				"PostWorkActivitySid":               {testWA},
				"Timeout":                           {"20"},
				"StatusCallback":                    {"https://example.com/status"},
				"StatusCallbackMethod":              {"GET"},
				"StatusCallbackEvent":               {"initiated", "ringing", "answered", "completed"},
				"Record":                            {"true"},
				"Muted":                             {"false"},
				"Beep":                              {"onEnter"},
				"StartConferenceOnEnter":            {"true"},
				"EndConferenceOnExit":               {"false"},
				"EndConferenceOnCustomerExit":       {"true"},
				"BeepOnCustomerEntrance":            {"false"},
				"WaitUrl":                           {"https://example.com/hold.mp3"},
				"WaitMethod":                        {"GET"},
				"EarlyMedia":                        {"true"},
				"MaxParticipants":                   {"10"},
				"ConferenceStatusCallback":          {"https://example.com/conf"},
				"ConferenceStatusCallbackMethod":    {"POST"},
				"ConferenceStatusCallbackEvent":     {"start", "end", "join", "leave", "mute", "hold", "speaker"},
				"ConferenceRecord":                  {"record-from-start"},
				"ConferenceTrim":                    {"do-not-trim"},
				"RecordingChannels":                 {"dual"},
				"RecordingStatusCallback":           {"https://example.com/rec"},
				"RecordingStatusCallbackMethod":     {"GET"},
				"ConferenceRecordingStatusCallback": {"https://example.com/confrec"},
				"ConferenceRecordingStatusCallbackMethod": {"POST"},
				"Region":           {"ie1"},
				"SipAuthUsername":  {"agent"},
				"SipAuthPassword":  {"s3cret"},
				"JitterBufferSize": {"small"},
			},
		},
		{
			name: "conference minimal",
			in:   policy.Instruction{Name: policy.Conference, Params: []policy.Param{p("from", "+18001231234")}},
			want: url.Values{"Instruction": {"conference"}, "From": {"+18001231234"}},
		},
	}
	fake := newFakeTaskRouter(t)
	send, err := NewSender(testConfig(t, fake.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up := testUpdate(i, c.in)
			if err := send(context.Background(), up); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := fake.requests(up.ReservationSid)
			if len(got) != 1 {
				t.Fatalf("fake got %d requests, want 1", len(got))
			}
			wantPath := "/v1/Workspaces/" + testWS + "/Workers/" + testWK + "/Reservations/" + up.ReservationSid
			if got[0].path != wantPath {
				t.Errorf("path %s, want %s", got[0].path, wantPath)
			}
			if !reflect.DeepEqual(got[0].form, c.want) {
				t.Errorf("form\n got %v\nwant %v", got[0].form, c.want)
			}
		})
	}
	// Every parameter of the table appears in some case above, so no
	// mapping goes untested.
	for in, table := range paramTable {
		for name := range table {
			found := false
			for _, c := range cases {
				if _, ok := c.in.Get(name); ok && c.in.Name == in {
					found = true
				}
			}
			if !found {
				t.Errorf("%s parameter %s is not exercised", in, name)
			}
		}
	}
}

func TestRESTParamsRefuses(t *testing.T) {
	cases := []struct {
		name string
		in   policy.Instruction
		want string
	}{
		{"unknown instruction", policy.Instruction{Name: "supervise"}, `unknown instruction "supervise"`},
		{"unknown param", policy.Instruction{Name: policy.Call, Params: []policy.Param{p("caller_id", "x")}}, `no parameter "caller_id"`},
		{"param of another instruction", policy.Instruction{Name: policy.Accept, Params: []policy.Param{p("activity_sid", testWA)}}, `no parameter "activity_sid"`},
		{"int as string", policy.Instruction{Name: policy.Call, Params: []policy.Param{p("timeout", "30")}}, "want an int, got string"},
		{"bool as string", policy.Instruction{Name: policy.Redirect, Params: []policy.Param{p("accept", "true")}}, "want a bool, got string"},
		{"list as string", policy.Instruction{Name: policy.Conference, Params: []policy.Param{p("status_callback_event", "ringing")}}, "want a []string, got string"},
		{"string as bool", policy.Instruction{Name: policy.Conference, Params: []policy.Param{p("conference_record", true)}}, "want a string, got bool"},
		{"float as int", policy.Instruction{Name: policy.Conference, Params: []policy.Param{p("max_participants", 10.0)}}, "want an int, got float64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := requestFor(c.in)
			if err == nil || !errors.Is(err, reservation.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an invalid-update error containing %q", err, c.want)
			}
		})
	}
}

func TestRESTNotSentWhenInvalid(t *testing.T) {
	fake := newFakeTaskRouter(t)
	send, err := NewSender(testConfig(t, fake.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	up := testUpdate(1, policy.Instruction{Name: policy.Call, Params: []policy.Param{p("timeout", "30")}})
	if err := send(context.Background(), up); !errors.Is(err, reservation.ErrInvalid) {
		t.Fatalf("got %v, want reservation.ErrInvalid", err)
	}
	if n := len(fake.requests(up.ReservationSid)); n != 0 {
		t.Fatalf("an invalid update reached TaskRouter (%d requests)", n)
	}
}

// TestRESTURLRewrite checks that ASSIGND_TASKROUTER_URL, path prefix
// included, is where requests go, with the auth-token credentials too.
func TestRESTURLRewrite(t *testing.T) {
	var gotPath, gotUser, gotPass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.Path
		gotUser, gotPass, _ = r.BasicAuth()
		fmt.Fprint(w, reservationBody(strings.TrimPrefix(r.URL.Path, "/proxy"), "accepted"))
	}))
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/proxy/")
	cfg.APIKey, cfg.APISecret, cfg.AuthToken = "", "", "authtoken0123"
	send, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	up := testUpdate(7, policy.Instruction{Name: policy.Accept})
	if err := send(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	if want := "/proxy/v1/Workspaces/" + testWS + "/Workers/" + testWK + "/Reservations/" + up.ReservationSid; gotPath != want {
		t.Errorf("path %s, want %s", gotPath, want)
	}
	if gotUser != testAccount || gotPass != "authtoken0123" {
		t.Errorf("basic auth %q/%q, want the account SID and auth token", gotUser, gotPass)
	}
}

func TestRESTRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		" 7 ":                           7 * time.Second,
		"0":                             0,
		"-5":                            0,
		"soon":                          0,
		"99999999999":                   86400 * time.Second,
		"Fri, 02 Jan 2026 03:04:15 GMT": 10 * time.Second,
		"Fri, 02 Jan 2026 03:04:00 GMT": 0,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

// harness runs a real reservation.Updater with the real twilio-go sender against a
// fake TaskRouter, recording logs and sleeps.
type harness struct {
	fake   *fakeTaskRouter
	u      *reservation.Updater
	logs   *observer.ObservedLogs
	mu     sync.Mutex
	sleeps []time.Duration
}

func newHarness(t *testing.T, o reservation.Options) *harness {
	t.Helper()
	h := &harness{fake: newFakeTaskRouter(t)}
	send, err := NewSender(testConfig(t, h.fake.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.InfoLevel)
	h.logs = logs
	o.Send = send
	o.Log = zap.New(core)
	if o.Sleep == nil {
		// Record the wait and skip it: these tests are about which waits
		// are chosen, not about waiting.
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			h.mu.Lock()
			h.sleeps = append(h.sleeps, d)
			h.mu.Unlock()
			return ctx.Err()
		}
	}
	h.u = mustUpdater(t, o)
	h.u.Start()
	return h
}

// run enqueues one update, drains the updater and returns its log line.
func (h *harness) run(t *testing.T, up reservation.Update) observer.LoggedEntry {
	t.Helper()
	if err := h.u.Enqueue(up); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.u.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	lines := h.logs.FilterMessage("reservation update finished").AllUntimed()
	if len(lines) != 1 {
		t.Fatalf("got %d outcome lines, want 1: %v", len(lines), lines)
	}
	return lines[0]
}

func TestRESTFaults(t *testing.T) {
	const attemptTimeout = 150 * time.Millisecond
	cases := []struct {
		name      string
		steps     []reply
		rt        time.Duration // reservation timeout; default 120s
		outcome   string
		attempts  int64
		code      int64
		sleeps    []time.Duration // exact waits, when they are deterministic
		landed    bool            // the earlier-attempt log field
		levelWant string
	}{
		{name: "429 with Retry-After", steps: []reply{{status: 429, code: 20429, message: "Too Many Requests", retryAfter: "2"}, replyOK},
			outcome: reservation.ResultApplied, attempts: 2, sleeps: []time.Duration{2 * time.Second}},
		{name: "429 with Retry-After date", steps: []reply{{status: 429, code: 20429, message: "Too Many Requests",
			retryAfter: time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)}, replyOK},
			outcome: reservation.ResultApplied, attempts: 2},
		{name: "429 Retry-After past deadline", rt: 3 * time.Second, steps: []reply{{status: 429, code: 20429, message: "Too Many Requests", retryAfter: "60"}, replyOK},
			outcome: reservation.ResultExpired, attempts: 1, code: 20429},
		{name: "500 then ok", steps: []reply{{status: 500, code: 20500, message: "Internal Server Error"}, replyOK},
			outcome: reservation.ResultApplied, attempts: 2},
		{name: "503 three times", steps: []reply{{status: 503, code: 20503, message: "Service Unavailable"},
			{status: 503, code: 20503}, {status: 503, code: 20503}, replyOK},
			outcome: reservation.ResultApplied, attempts: 4},
		{name: "502 without a JSON body", steps: []reply{{status: 502}, replyOK}, outcome: reservation.ResultApplied, attempts: 2},
		{name: "slower than the attempt timeout", steps: []reply{{delay: 2 * time.Second}, replyOK},
			outcome: reservation.ResultApplied, attempts: 2},
		{name: "timed out but landed", steps: []reply{{delay: 2 * time.Second, lands: true}},
			outcome: reservation.ResultGone, attempts: 2, code: 20001, landed: true},
		{name: "dropped connection", steps: []reply{{drop: true}, {drop: true}, replyOK},
			outcome: reservation.ResultApplied, attempts: 3},
		{name: "400 not pending", steps: []reply{replyNotPending}, outcome: reservation.ResultGone, attempts: 1, code: 20001},
		{name: "400 not in expected state", steps: []reply{{status: 400, code: 20001,
			message: "Reservation WR… not in expected state [pending] and cannot be updated to [accepted]"}}, outcome: reservation.ResultGone, attempts: 1, code: 20001},
		{name: "400 already in state accepted", steps: []reply{{status: 400, code: 20001,
			message: "Reservation WR… is already in state [accepted] and cannot be updated"}}, outcome: reservation.ResultGone, attempts: 1, code: 20001},
		{name: "409 conflict", steps: []reply{{status: 409, code: 20409, message: "Conflict"}}, outcome: reservation.ResultGone, attempts: 1, code: 20409},
		{name: "404", steps: []reply{{status: 404, code: 20404, message: "The requested resource was not found"}}, outcome: reservation.ResultGone, attempts: 1, code: 20404},
		{name: "401", steps: []reply{{status: 401, code: 20003, message: "Authenticate"}}, outcome: reservation.ResultRejected, attempts: 1, code: 20003, levelWant: "error"},
		{name: "400 bad parameter", steps: []reply{{status: 400, code: 20001, message: "Invalid WorkerActivitySid"}}, outcome: reservation.ResultRejected, attempts: 1, code: 20001, levelWant: "error"},
		{name: "503 until the deadline", rt: 1 * time.Second, steps: []reply{{status: 503, code: 20503, message: "Service Unavailable"}},
			outcome: reservation.ResultExpired, code: 20503},
	}
	lag := testkit.LagMeter(t)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := reservation.Options{AttemptTimeout: attemptTimeout, ReservationTimeout: c.rt, SafetyMargin: 500 * time.Millisecond,
				Registerer: nil}
			if c.name == "503 until the deadline" {
				// Really wait, so that the deadline arrives.
				o.Sleep = realSleep
				o.BackoffBase, o.BackoffCap = 10*time.Millisecond, 50*time.Millisecond
			}
			h := newHarness(t, o)
			up := testUpdate(i, policy.Instruction{Name: policy.Accept})
			h.fake.script(up.ReservationSid, c.steps...)
			line := h.run(t, up)
			f := line.ContextMap()
			if f["outcome"] != c.outcome {
				t.Errorf("outcome %v, want %s", f["outcome"], c.outcome)
			}
			got := h.fake.requests(up.ReservationSid)
			if c.attempts != 0 {
				if f["attempts"] != c.attempts || int64(len(got)) != c.attempts {
					t.Errorf("attempts logged %v, requests received %d, want %d", f["attempts"], len(got), c.attempts)
				}
			} else if n, _ := f["attempts"].(int64); n < int64(len(got)) || len(got) < 2 {
				// The last attempt may have had too little time left to
				// reach the server.
				t.Errorf("attempts logged %v, requests received %d, want several, each logged", f["attempts"], len(got))
			}
			if f["twilio_code"] != c.code {
				t.Errorf("twilio_code %v, want %d", f["twilio_code"], c.code)
			}
			if c.sleeps != nil && !reflect.DeepEqual(h.sleeps, c.sleeps) {
				t.Errorf("slept %v, want %v", h.sleeps, c.sleeps)
			}
			if _, ok := f["earlier_attempt_may_have_landed"]; ok != c.landed {
				t.Errorf("earlier_attempt_may_have_landed present %v, want %v", ok, c.landed)
			}
			if c.levelWant != "" && line.Level.String() != c.levelWant {
				t.Errorf("logged at %s, want %s", line.Level, c.levelWant)
			}
			if c.outcome == reservation.ResultRejected && f["twilio_message"] == "" {
				t.Errorf("rejected without Twilio's message: %v", f)
			}
			// The server reads a request a little after the client sent it.
			deadline := up.Received.Add(c.rt - 500*time.Millisecond).Add(100*time.Millisecond + lag())
			if c.rt > 0 {
				for _, g := range got {
					if g.at.After(deadline) {
						t.Errorf("request at %s, after the deadline %s", g.at.Format(time.StampMilli), deadline.Format(time.StampMilli))
					}
				}
			}
		})
	}
}

// TestRESTRetryAfterDateWait checks that an HTTP-date Retry-After becomes a
// wait of about the right length.
func TestRESTRetryAfterDateWait(t *testing.T) {
	h := newHarness(t, reservation.Options{})
	up := testUpdate(1, policy.Instruction{Name: policy.Accept})
	h.fake.script(up.ReservationSid, reply{status: 429, retryAfter: time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)}, replyOK)
	h.run(t, up)
	if len(h.sleeps) != 1 || h.sleeps[0] < 25*time.Second || h.sleeps[0] > 31*time.Second {
		t.Fatalf("slept %v, want one wait of about 30s", h.sleeps)
	}
}

// TestRESTAttemptTimeoutCancels checks that a response slower than the
// attempt timeout really ends the attempt on time, and that nothing is left
// running afterwards.
func TestRESTAttemptTimeoutCancels(t *testing.T) {
	before := runtime.NumGoroutine()
	fake := newFakeTaskRouter(t)
	send, err := NewSender(testConfig(t, fake.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	up := testUpdate(1, policy.Instruction{Name: policy.Accept})
	// The fake answers only after stall: returning before then is what
	// shows the attempt was cancelled, however slow the machine.
	const stall = 5 * time.Second
	fake.script(up.ReservationSid, reply{delay: stall})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = send(ctx, up)
	if took := time.Since(start); took >= stall {
		t.Fatalf("attempt returned after %s, when the server answered: the 100ms timeout did not cancel it", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
	// A body that stalls after the headers is cut off too.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(200)
		fmt.Fprint(w, `{"sid":`)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(stall):
		}
	}))
	send2, err := NewSender(testConfig(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	start = time.Now()
	err = send2(ctx2, up)
	if took := time.Since(start); took >= stall || err == nil {
		t.Fatalf("stalled body: returned after %s (the server gives up at %s), err %v", took, stall, err)
	}
	srv.Close()
	fake.srv.Close()
	// Connections close with the servers; the client's goroutines must go too.
	for wait := time.Now().Add(3 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(wait) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// realSleep waits d or until ctx ends, as the updater's default does.
func realSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
