package decisionlog

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/policy"
)

// leakPolicy masks and drops inputs that its rules read in conditions, in
// templates, and in a template that fails to render, whose skip reason
// quotes what it rendered. Its literals are not the raw values searched
// for: a trace quotes the policy's conditions, which are no input.
const leakPolicy = `
version: 1
decision_log:
  mask: [task.from, worker.contact_uri, callback.WorkerName]
  drop: [task.notes, task.account]
rules:
  - name: vip
    when: task.vip == true AND task.notes CONTAINS "urgent"
    instruction: dequeue
    params: {from: "{{task.from}}", to: "{{worker.contact_uri}}"}
  - name: bad-to
    when: task.language == "fr"
    instruction: dequeue
    params: {from: "+15005550006", to: "{{task.notes}}"}
  - name: account
    when: task.account CONTAINS "7781" OR callback.WorkerName CONTAINS "alice"
    instruction: dequeue
    params: {from: "{{task.from}}", to: "client:{{callback.WorkerName}}"}
  - name: by-from
    when: task.from CONTAINS "555019"
    instruction: accept
  - name: default
    instruction: reject
    params: {activity_sid: WA00000000000000000000000000000001}
`

// leakInputs exercise every rule of leakPolicy; the raw values of its
// masked and dropped paths are listed in leakRaw.
var leakInputs = []string{
	`{"task": {"vip": true, "notes": "urgent: ring back soon", "from": "+14155550111"}, "worker": {"contact_uri": "client:alice-uri"}, "callback": {}, "now": "2026-03-02T14:05:06Z"}`,
	`{"task": {"language": "fr", "notes": "not a contact at all", "from": "+14155550122"}, "worker": {"contact_uri": "client:alice-uri"}, "callback": {}, "now": "2026-03-02T14:05:06Z"}`,
	`{"task": {"account": "acct-7781-secret", "from": "+14155550133"}, "worker": {}, "callback": {"WorkerName": "alice-private-name"}, "now": "2026-03-02T14:05:06Z"}`,
	`{"task": {"account": "acct-0000-other", "from": "+14155550199"}, "worker": {"contact_uri": "sip:carol@example.com"}, "callback": {"WorkerName": "bob-private-name"}, "now": "2026-03-02T14:05:06Z"}`,
	`{"task": {"vip": false, "notes": "urgent but not vip", "from": "+14155550144"}, "worker": {"contact_uri": "client:dave-uri"}, "callback": {"WorkerName": "dave-private-name"}, "now": "2026-03-02T14:05:06Z"}`,
}

var leakRaw = []string{
	"urgent: ring back soon", "+14155550111", "client:alice-uri", "alice-uri",
	"not a contact at all", "+14155550122",
	"acct-7781-secret", "+14155550133", "alice-private-name",
	"acct-0000-other", "+14155550199", "sip:carol@example.com", "bob-private-name",
	"urgent but not vip", "+14155550144", "client:dave-uri", "dave-private-name",
}

// TestMaskingLeaksNothing writes every leakInputs decision through a
// stdout log whose own logger records at debug, and searches the records
// and the log lines for every raw masked or dropped value.
func TestMaskingLeaksNothing(t *testing.T) {
	p, err := policy.Parse("leak.yaml", []byte(leakPolicy))
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.DebugLevel)
	var out testkit.SyncBuffer
	l, err := New(Options{Sink: "stdout", Stdout: &out, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]bool{}
	for _, src := range leakInputs {
		in := testInput(t, p, src, testReservation)
		rules[in.Decision.Rule] = true
		l.Decision(in)
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(rules) < 4 {
		t.Fatalf("the inputs exercise only rules %v", rules)
	}
	records := out.String()
	if n := strings.Count(records, "\n"); n != len(leakInputs) {
		t.Fatalf("%d records, want %d:\n%s", n, len(leakInputs), records)
	}
	var all strings.Builder
	all.WriteString(records)
	for _, e := range logs.All() {
		all.WriteString(e.Message)
		for k, v := range e.ContextMap() {
			all.WriteString(k)
			fmt.Fprint(&all, v)
		}
	}
	for _, raw := range leakRaw {
		if strings.Contains(all.String(), raw) {
			t.Errorf("the raw value %q appears in the records or logs:\n%s", raw, all.String())
		}
	}
	if !strings.Contains(records, `"outcome":"skipped"`) {
		t.Errorf("no record shows the skipped rule:\n%s", records)
	}
}

// TestDefaultMaskingLeaksNoPhones: without a decision_log section, no
// phone-number-looking value is written, wherever it sits.
func TestDefaultMaskingLeaksNoPhones(t *testing.T) {
	p, err := policy.Parse("p.yaml", []byte(`
version: 1
rules:
  - name: by-caller
    when: task.caller CONTAINS "+1415" OR worker.contact_uri CONTAINS "sip:"
    instruction: dequeue
    params: {from: "{{task.caller}}", to: "{{worker.contact_uri}}"}
  - name: nested
    when: task.customer.phone CONTAINS "555"
    instruction: accept
  - name: default
    instruction: accept
`))
	if err != nil {
		t.Fatal(err)
	}
	raws := []string{"+14155550177", "sip:erin@example.com", "+14155550188", "client:frank", "+442071234567"}
	var b bytes.Buffer
	for _, src := range []string{
		`{"task": {"caller": "+14155550177"}, "worker": {"contact_uri": "sip:erin@example.com"}, "callback": {}, "now": "2026-03-02T14:05:06Z"}`,
		`{"task": {"customer": {"phone": "+14155550188", "alt": ["+442071234567"]}}, "worker": {"contact_uri": "client:frank"}, "callback": {}, "now": "2026-03-02T14:05:06Z"}`,
	} {
		b.Write(line(t, testInput(t, p, src, testReservation)))
	}
	for _, raw := range raws {
		if strings.Contains(b.String(), raw) {
			t.Errorf("%q appears in the records:\n%s", raw, b.String())
		}
	}
}

func TestPhoneLike(t *testing.T) {
	for s, want := range map[string]bool{
		"+14155550100": true, "+442071234567": true, "client:alice": true, "CLIENT:alice": true, "sip:a@b.example": true,
		"14155550100": false, "+0123456789": false, "+1": false, "alice": false, "es": false, "": false,
	} {
		if got := PhoneLike(s); got != want {
			t.Errorf("PhoneLike(%q) = %v, want %v", s, got, want)
		}
	}
}
