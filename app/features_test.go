package app

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assignd/assignd/api"
	"github.com/assignd/assignd/decisionlog"
	"github.com/assignd/assignd/handlers"
)

// featuresPolicy reads a calendar, a table and an experiment.
const featuresPolicy = `version: 1
calendars:
  support:
    timezone: America/New_York
    hours:
      Mon-Sun: "00:00-24:00"
tables:
  vip:
    file: vip.csv
    key: phone
experiments:
  desk:
    key: "{{task.from}}"
    arms: {a: 50, b: 50}
rules:
  - name: storm
    when: calendar.support.open == false
    instruction: dequeue
    params: {to: "client:storm"}
  - name: vip
    when: task.from IN tables.vip AND (experiment.desk == "a" OR experiment.desk == "b")
    instruction: dequeue
    params: {to: "client:vip"}
  - name: default
    instruction: accept
`

// stormOverride closes the support calendar for the next hour.
func stormOverride() string {
	return "overrides:\n  - {calendar: support, state: closed, reason: Storm closure, until: \"" +
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + "\"}\n"
}

// startFeatures runs the app on featuresPolicy, with an overrides file
// closing the calendar and a file decision log; it returns the files.
func startFeatures(t *testing.T) (r *running, overrides, records string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"policy.yaml":    featuresPolicy,
		"vip.csv":        "phone,tier\n+15551230000,gold\n",
		"overrides.yaml": stormOverride(),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := testConfig()
	cfg.Dev = true
	cfg.PolicyFile = filepath.Join(dir, "policy.yaml")
	cfg.OverridesFile = filepath.Join(dir, "overrides.yaml")
	cfg.DecisionLog = "file:" + filepath.Join(dir, "decisions.jsonl")
	cfg.DecisionLogMaxMB, cfg.DecisionLogMaxFiles = 1, 1
	return start(t, cfg), cfg.OverridesFile, filepath.Join(dir, "decisions.jsonl")
}

// vipCallback is reservation n of the VIP caller.
func vipCallback(n int) url.Values {
	f := devCallback()
	f.Set("ReservationSid", reservationSid(n))
	f.Set("TaskAttributes", `{"from":"+15551230000"}`)
	return f
}

// TestServeFeatures drives the wiring of the policy features through the
// real listeners: the overrides file closes a calendar for callbacks, the
// explain API and the calendar metric; a reload of the overrides file
// reopens it; GET /-/policy lists the table; and the decision log holds a
// record per decision, with the calendar states, table hits and
// experiment arms it read, and an outcome record for the event, written
// by the time Stop returns.
func TestServeFeatures(t *testing.T) {
	r, overrides, records := startFeatures(t)
	assign := func(n int) string {
		t.Helper()
		code, _, body := postForm(t, r.callback+handlers.AssignmentPath, vipCallback(n), "")
		if code != 200 {
			t.Fatalf("callback %d: %d %s", n, code, body)
		}
		return body
	}
	if body := assign(1); !strings.Contains(body, "client:storm") {
		t.Errorf("under the storm override: %s, want rule storm", body)
	}
	if _, m := get(t, r.admin+"/metrics"); !strings.Contains(m, `assignd_calendar_open{calendar="support"} 0`+"\n") {
		t.Errorf("metrics lack the closed calendar")
	}
	code, _, body := postJSON(t, r.admin+"/-/explain", `{"task":{"from":"+15551230000"}}`)
	if code != 200 || !strings.Contains(body, `"rule": "storm"`) || !strings.Contains(body, `"state": "override"`) {
		t.Errorf("explain under the override: %d %s", code, body)
	}

	if err := os.WriteFile(overrides, []byte("overrides: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.app.Reload()
	waitUntil(t, "the overrides reload", func() bool {
		_, m := get(t, r.admin+"/metrics")
		return strings.Contains(m, `assignd_calendar_open{calendar="support"} 1`+"\n")
	})
	if body := assign(2); !strings.Contains(body, "client:vip") {
		t.Errorf("after the overrides reload: %s, want rule vip", body)
	}
	if code, _, body := postForm(t, r.callback+handlers.EventsPath, eventFor("reservation.accepted", 2, "gold"), ""); code != 204 {
		t.Fatalf("event: %d %s", code, body)
	}

	_, body = get(t, r.admin+"/-/policy")
	var info api.PolicyInfo
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Tables) != 1 || info.Tables[0].Name != "vip" || filepath.Base(info.Tables[0].File) != "vip.csv" ||
		info.Tables[0].Rows != 1 || len(info.Tables[0].Hash) != 12 {
		t.Errorf("GET /-/policy lacks the table: %+v", info.Tables)
	}

	// POST /-/reload reloads the overrides file too, and a bad one fails
	// it, naming the file, while the running overrides stay.
	if err := os.WriteFile(overrides, []byte("overrides: [{calendar: support}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, body = postJSON(t, r.admin+"/-/reload", "{}")
	if code != 500 || !strings.Contains(body, "overrides.yaml:1") {
		t.Errorf("POST /-/reload with a bad overrides file: %d %s", code, body)
	}
	if body := assign(3); !strings.Contains(body, "client:vip") {
		t.Errorf("after a bad overrides file: %s, want rule vip still", body)
	}

	r.stop()
	if err := <-r.done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	r.done <- nil // for the cleanup
	checkRecords(t, records)
}

// checkRecords reads the decision log TestServeFeatures wrote.
func checkRecords(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("+15551230000")) {
		t.Errorf("the caller's number is in the decision log:\n%s", b)
	}
	var recs []decisionlog.Record
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var rec decisionlog.Record
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		recs = append(recs, rec)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want 3 decisions and 1 outcome:\n%s", len(recs), b)
	}
	storm, vip, out := recs[0], recs[1], recs[2]
	if storm.Rule != "storm" || len(storm.Inputs.Calendars) != 1 || storm.Inputs.Calendars[0].State != "override" ||
		storm.Inputs.Calendars[0].Reason != "Storm closure" {
		t.Errorf("storm record: %s", b)
	}
	if vip.Rule != "vip" || len(vip.Inputs.Calendars) != 1 || vip.Inputs.Calendars[0].State != "open" ||
		len(vip.Inputs.Tables) != 1 || !vip.Inputs.Tables[0].Hit || vip.Inputs.Tables[0].Table != "vip" ||
		len(vip.Inputs.Experiments) != 1 || vip.Inputs.Experiments[0].Experiment != "desk" {
		t.Errorf("vip record: %s", b)
	}
	if out.Kind != decisionlog.KindOutcome || out.ReservationSid != vip.ReservationSid || out.Rule != "vip" ||
		out.EventType != "reservation.accepted" || out.Source != "remembered" {
		t.Errorf("outcome record: %s", b)
	}
}

// TestServeBadOverridesFile starts without the overrides a bad file
// holds, ready, and counts the failure.
func TestServeBadOverridesFile(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.Dev = true
	cfg.OverridesFile = filepath.Join(dir, "overrides.yaml")
	if err := os.WriteFile(cfg.OverridesFile, []byte("overrides: [{calendar: support}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := start(t, cfg)
	if code, body := get(t, r.admin+"/readyz"); code != 200 {
		t.Errorf("/readyz with a bad overrides file: %d %s", code, body)
	}
	if _, m := get(t, r.admin+"/metrics"); !strings.Contains(m, "assignd_overrides_last_reload_successful 0\n") {
		t.Errorf("the failed overrides load is not reported")
	}
	if r.logs.FilterMessageSnippet("calendar overrides not loaded").Len() != 1 {
		t.Errorf("no warning that the overrides did not load")
	}
}

// postJSON posts body as JSON to u.
func postJSON(t *testing.T, u, body string) (int, string, string) {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}
