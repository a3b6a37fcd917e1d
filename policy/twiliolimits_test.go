package policy

import (
	"strings"
	"testing"
	"time"
)

// TestSIPDequeueTimeout holds TaskRouter's 600-second limit for a dequeue
// to a SIP address: a literal one is a load error, a rendered one (or a
// worker's contact_uri) skips the rule, and every other contact keeps 999.
func TestSIPDequeueTimeout(t *testing.T) {
	const head = "version: 1\ndefaults:\n  dequeue: {from: \"+15005550006\"}\nrules:\n"
	const tail = "  - {name: default, instruction: accept}\n"
	bad := []string{
		`  - {name: sip, when: task.x == 1, instruction: dequeue, params: {to: "sip:agent@example.com", timeout: 601}}`,
		`  - {name: sip, when: task.x == 1, instruction: dequeue, params: {to: "SIP:agent@example.com", timeout: 999}}`,
	}
	for _, rule := range bad {
		_, err := Parse("p.yaml", []byte(head+rule+"\n"+tail))
		if err == nil || !strings.Contains(err.Error(), `rule "sip" (#1): params.timeout:`) || !strings.Contains(err.Error(), "above 600") {
			t.Errorf("%s: loaded or wrong error: %v", rule, err)
		}
	}
	p := mustParse(t, head+`  - {name: sip-600, when: task.x == 1, instruction: dequeue, params: {to: "sip:agent@example.com", timeout: 600}}
  - {name: phone-999, when: task.x == 2, instruction: dequeue, params: {to: "+15005550007", timeout: 999}}
  - {name: rendered-to, when: task.x == 3, instruction: dequeue, params: {to: "{{task.to}}", timeout: 700}}
  - {name: rendered-timeout, when: task.x == 4, instruction: dequeue, params: {to: "sip:a@example.com", timeout: "{{task.ring}}"}}
  - {name: contact-uri, when: task.x == 5, instruction: dequeue, params: {timeout: 700}}
`+tail)
	tests := []struct {
		task   map[string]any
		worker map[string]any
		want   string // the deciding rule
		skip   string // the skipped rule's detail, if any
	}{
		{map[string]any{"x": 1}, nil, "sip-600", ""},
		{map[string]any{"x": 2}, nil, "phone-999", ""},
		{map[string]any{"x": 3, "to": "client:alice"}, nil, "rendered-to", ""},
		{map[string]any{"x": 3, "to": "sip:alice@example.com"}, nil, "default", "params.timeout: 700 is above 600, the longest TaskRouter rings the SIP address in params.to"},
		{map[string]any{"x": 4, "ring": 600}, nil, "rendered-timeout", ""},
		{map[string]any{"x": 4, "ring": 601}, nil, "default", "params.timeout: 601 is above 600"},
		{map[string]any{"x": 5}, map[string]any{"contact_uri": "client:alice"}, "contact-uri", ""},
		{map[string]any{"x": 5}, map[string]any{"contact_uri": "sip:alice@example.com"}, "default", "the SIP address in worker.contact_uri"},
	}
	for _, tt := range tests {
		d := p.Decide(&Input{Task: tt.task, Worker: tt.worker, Now: time.Unix(0, 0)})
		if d.Rule != tt.want {
			t.Errorf("task %v worker %v: decided %s, skipped %+v; want %s", tt.task, tt.worker, d.Rule, d.Skipped, tt.want)
			continue
		}
		if tt.skip != "" && (len(d.Skipped) != 1 || d.Skipped[0].Reason != "invalid" || !strings.Contains(d.Skipped[0].Detail, tt.skip)) {
			t.Errorf("task %v: skipped %+v, want one invalid skip saying %q", tt.task, d.Skipped, tt.skip)
		}
		if len(d.Skipped) > 0 && strings.Contains(d.Skipped[0].Detail, "alice") {
			t.Errorf("a skip quotes the contact: %+v", d.Skipped)
		}
	}
	if rd := p.Reads(); !strings.Contains(strings.Join(rd.Worker, ","), "contact_uri") {
		t.Errorf("Reads.Worker = %v, want contact_uri, which the contact-uri rule checks", rd.Worker)
	}
}

// TestConferencePostWorkDeprecated holds the warning for conference's
// post_work_activity_sid, and that dequeue's is not warned.
func TestConferencePostWorkDeprecated(t *testing.T) {
	p := mustParse(t, `
version: 1
rules:
  - name: conf
    when: task.x == 1
    instruction: conference
    params: {from: "+15005550006", post_work_activity_sid: WA00000000000000000000000000000001}
  - name: dq
    when: task.x == 2
    instruction: dequeue
    params: {from: "+15005550006", to: "client:{{worker.friendly_name}}", post_work_activity_sid: WA00000000000000000000000000000001}
  - name: default
    instruction: accept
`)
	ws := p.Warnings()
	if len(ws) != 2 || !strings.Contains(ws[0].String(), `rule "conf" (#1): params.post_work_activity_sid: deprecated by Twilio and "not valid in multi-tasking workspaces"`) {
		t.Errorf("warnings %v, want one about conference's post_work_activity_sid", ws)
	}
	// A template reading a worker field the callback lacks warns too.
	if len(ws) == 2 && !strings.Contains(ws[1].String(), `rule "dq" (#2): params.to: worker.friendly_name is a worker field that the assignment callback does not carry`) {
		t.Errorf("warning %v, want one about worker.friendly_name", ws[1])
	}
}
