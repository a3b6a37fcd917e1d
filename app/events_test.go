package app

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/cli"
	"github.com/assignd/assignd/internal/testkit"

	"github.com/assignd/assignd/handlers"
)

// eventsPolicy has one rule per tier, so that the test can tell which
// rule an outcome was counted for.
const eventsPolicy = `version: 1
rules:
  - name: vip
    when: task.tier == "gold"
    instruction: accept
  - name: default
    instruction: accept
`

const (
	eventsToken = "0123456789abcdef0123456789abcdef"
	eventsBase  = "https://cc.example.com/routing"
)

// reservationSid returns the ReservationSid numbered n.
func reservationSid(n int) string { return "WR" + strings.Repeat("0", 31) + string(rune('0'+n)) }

// assignmentFor is an assignment callback for reservation n, for a task of
// the given tier.
func assignmentFor(n int, tier string) url.Values {
	f := signedCallback()
	f.Set("ReservationSid", reservationSid(n))
	f.Set("TaskAttributes", `{"tier":"`+tier+`"}`)
	return f
}

// eventFor is a reservation event callback as the TaskRouter Events
// reference describes it: the common parameters (EventType, AccountSid,
// WorkspaceSid, WorkspaceName, EventDescription, ResourceType, ResourceSid,
// Timestamp) and a reservation event's field data (Task, Worker,
// TaskQueueSid, ReservationSid, WorkflowSid).
func eventFor(eventType string, n int, tier string) url.Values {
	return url.Values{
		"EventType":            {eventType},
		"AccountSid":           {"AC11111111111111111111111111111111"},
		"WorkspaceSid":         {"WS22222222222222222222222222222222"},
		"WorkspaceName":        {"Support"},
		"EventDescription":     {"Reservation " + reservationSid(n) + " was " + strings.TrimPrefix(eventType, "reservation.")},
		"ResourceType":         {"Reservation"},
		"ResourceSid":          {reservationSid(n)},
		"Timestamp":            {"1767268800"},
		"TaskSid":              {"WT55555555555555555555555555555555"},
		"TaskAttributes":       {`{"tier":"` + tier + `"}`},
		"TaskAge":              {"12"},
		"TaskPriority":         {"0"},
		"TaskAssignmentStatus": {"assigned"},
		"TaskQueueSid":         {"WQ33333333333333333333333333333333"},
		"WorkflowSid":          {"WW44444444444444444444444444444444"},
		"WorkerSid":            {"WK66666666666666666666666666666666"},
		"WorkerName":           {"alice"},
		"WorkerAttributes":     {`{"contact_uri":"client:alice"}`},
		"WorkerActivitySid":    {"WA77777777777777777777777777777777"},
		"WorkerActivityName":   {"Busy"},
		"ReservationSid":       {reservationSid(n)},
	}
}

// startSigned runs the app with eventsPolicy, signatures checked, and a
// decision memory of capacity entries.
func startSigned(t *testing.T, capacity int) *running {
	t.Helper()
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte(eventsPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.AuthToken = eventsToken
	cfg.PolicyFile = file
	cfg.PublicBaseURL = eventsBase
	cfg.DecisionMemory = capacity
	return start(t, cfg)
}

// postSigned posts form to path, signed as TaskRouter signs it.
func postSigned(t *testing.T, r *running, path string, form url.Values) (int, string, string) {
	t.Helper()
	return postForm(t, r.callback+path, form, testkit.Sign(eventsToken, eventsBase+path, form))
}

// TestServeEvents drives a real listener with signed assignment callbacks,
// then signed event callbacks, and checks the outcome counts per rule and
// source: for reservations this process remembers, for one it evicted, and
// for one "another replica" decided.
func TestServeEvents(t *testing.T) {
	// A memory of one decision: the second callback evicts the first.
	r := startSigned(t, 1)
	steps := []struct {
		path  string
		form  url.Values
		code  int
		label string
	}{
		{handlers.AssignmentPath, assignmentFor(1, "gold"), 200, "decide 1 (vip)"},
		{handlers.EventsPath, eventFor("reservation.accepted", 1, "gold"), 204, "1 accepted, remembered"},
		{handlers.AssignmentPath, assignmentFor(2, "basic"), 200, "decide 2 (default), evicting 1"},
		{handlers.EventsPath, eventFor("reservation.rejected", 2, "basic"), 204, "2 rejected, remembered"},
		{handlers.EventsPath, eventFor("reservation.completed", 1, "gold"), 204, "1 completed after eviction"},
		{handlers.EventsPath, eventFor("reservation.timeout", 3, "gold"), 204, "3, decided by another replica"},
		{handlers.EventsPath, eventFor("reservation.created", 2, "basic"), 204, "created is counted only"},
		{handlers.EventsPath, eventFor("task.completed", 2, "basic"), 204, "task events are counted only"},
		{handlers.EventsPath, eventFor("task.teleported", 2, "basic"), 204, "an unknown type is other"},
	}
	for _, s := range steps {
		code, ct, body := postSigned(t, r, s.path, s.form)
		if code != s.code || ct != "application/json" {
			t.Fatalf("%s: %d %q %s, want %d application/json", s.label, code, ct, body, s.code)
		}
		if s.code == 204 && body != "" {
			t.Errorf("%s: 204 with body %q", s.label, body)
		}
	}

	_, metrics := get(t, r.admin+"/metrics")
	for _, want := range []string{
		`assignd_reservation_outcomes_total{instruction="accept",outcome="accepted",rule="vip",source="remembered"} 1`,
		`assignd_reservation_outcomes_total{instruction="accept",outcome="rejected",rule="default",source="remembered"} 1`,
		`assignd_reservation_outcomes_total{instruction="accept",outcome="completed",rule="vip",source="recomputed"} 1`,
		`assignd_reservation_outcomes_total{instruction="accept",outcome="timeout",rule="vip",source="recomputed"} 1`,
		`assignd_reservation_outcome_seconds_count{outcome="accepted",rule="vip"} 1`,
		`assignd_events_total{result="counted",type="reservation.accepted"} 1`,
		`assignd_events_total{result="counted",type="reservation.created"} 1`,
		`assignd_events_total{result="counted",type="task.completed"} 1`,
		`assignd_events_total{result="counted",type="other"} 1`,
		`assignd_decision_memory_entries 1`,
		`assignd_decision_memory_evictions_total 1`,
		// Event callbacks are not assignment callbacks.
		`assignd_callbacks_total{code="200"} 2`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(metrics, `outcome_seconds_count{outcome="completed"`) {
		t.Errorf("a recomputed outcome has a duration")
	}

	_, body := get(t, r.admin+"/-/policy")
	var info struct {
		Rules    []string
		Outcomes map[string]map[string]map[string]int
	}
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]map[string]int{
		"vip":     {"remembered": {"accepted": 1}, "recomputed": {"completed": 1, "timeout": 1}},
		"default": {"remembered": {"rejected": 1}, "recomputed": {}},
	}
	if got, _ := json.Marshal(info.Outcomes); string(got) != mustJSON(t, want) {
		t.Errorf("GET /-/policy outcomes = %s, want %s", got, mustJSON(t, want))
	}

	// explain -server prints the running server's counts beside the rules.
	var stdout, stderr bytes.Buffer
	code := cli.Explain([]string{"-policy", r.app.cfg.PolicyFile, "-task", `{"tier":"gold"}`, "-server", r.admin}, nil, &stdout, &stderr)
	for _, line := range []string{
		"  vip      remembered accepted=1  recomputed timeout=1 completed=1\n",
		"  default  remembered rejected=1  recomputed -\n",
	} {
		if code != 0 || !strings.Contains(stdout.String(), line) {
			t.Errorf("explain -server: exit %d, stdout lacks %q:\n%s%s", code, line, stdout.String(), stderr.String())
		}
	}
	if strings.Contains(stdout.String(), "another policy") {
		t.Errorf("explain -server: the same policy is reported as another:\n%s", stdout.String())
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServeEventsRefuses checks the answers to event callbacks that are
// not what TaskRouter sends, and that none of them is counted.
func TestServeEventsRefuses(t *testing.T) {
	r := startSigned(t, 100)
	without := func(name string) url.Values {
		f := eventFor("reservation.accepted", 1, "gold")
		f.Del(name)
		return f
	}
	with := func(name, value string) url.Values {
		f := eventFor("reservation.accepted", 1, "gold")
		f.Set(name, value)
		return f
	}
	tests := []struct {
		name   string
		form   url.Values
		signed bool
		code   int
		body   string
	}{
		{"unsigned", eventFor("reservation.accepted", 1, "gold"), false, 403, `{"error":"invalid signature"}`},
		{"no EventType", without("EventType"), true, 400, `{"error":"EventType: is required","field":"EventType"}`},
		{"no ReservationSid", without("ReservationSid"), true, 400, `{"error":"ReservationSid: is required","field":"ReservationSid"}`},
		{"malformed WorkerSid", with("WorkerSid", "WK1"), true, 400, `"field":"WorkerSid"}`},
		{"malformed ReservationSid", with("ReservationSid", "XX00000000000000000000000000000001"), true, 400, `"field":"ReservationSid"}`},
		{"malformed TaskAttributes", with("TaskAttributes", "{"), true, 400, `"field":"TaskAttributes"}`},
		{"oversized", with("WorkerName", strings.Repeat("a", callback.MaxBodyBytes)), true, 413, `{"error":"body is larger than`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := ""
			if tt.signed {
				sig = testkit.Sign(eventsToken, eventsBase+handlers.EventsPath, tt.form)
			}
			code, _, body := postForm(t, r.callback+handlers.EventsPath, tt.form, sig)
			if code != tt.code || !strings.Contains(body, tt.body) {
				t.Errorf("%d %s, want %d with %s", code, body, tt.code, tt.body)
			}
		})
	}
	if code, _ := get(t, r.callback+handlers.EventsPath); code != 405 {
		t.Errorf("GET: %d, want 405", code)
	}
	_, metrics := get(t, r.admin+"/metrics")
	if strings.Contains(metrics, "assignd_reservation_outcomes_total{") || !strings.Contains(metrics, `assignd_events_total{result="counted",type="reservation.accepted"} 0`) {
		t.Errorf("refused events were counted:\n%s", grepLines(metrics, "assignd_events_total{result=\"counted\",type=\"reservation.accepted\"}"))
	}
}
