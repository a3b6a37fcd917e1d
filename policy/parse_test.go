package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/assignd/assignd/internal/testkit"
)

// TestParseBadPolicies loads the policy of every testdata/bad/*.txtar
// archive, NAME.yaml, and pins the whole list of problems in its problems
// section, so that a change in what is reported, or a problem that stops
// being reported, shows. The policy is parsed under the name
// testdata/bad/NAME.yaml, the name its problems report.
func TestParseBadPolicies(t *testing.T) {
	for _, file := range testkit.Archives(t, "testdata/bad") {
		t.Run(testkit.Name(file), func(t *testing.T) {
			a := testkit.ReadArchive(t, file)
			name := testkit.Name(file) + ".yaml"
			p, err := Parse(filepath.Join(filepath.Dir(file), name), []byte(testkit.Section(t, a, name)))
			if err == nil {
				t.Fatalf("Parse accepted a bad policy with rules %v", p.Rules())
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error is %T, want *LoadError", err)
			}
			var b strings.Builder
			for _, pr := range le.Problems {
				b.WriteString(pr.String() + "\n")
				if pr.Detail != "" {
					b.WriteString(pr.Detail + "\n")
				}
			}
			testkit.Golden(t, file, a, txtar.File{Name: "problems", Data: []byte(b.String())})
		})
	}
}

func TestParseWarnings(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // substrings, one per warning, in order
	}{
		{"none", `
version: 1
rules:
  - name: a
    when: task.x == 1
    instruction: dequeue
    params: {from: "+15005550006", to: "client:a"}
  - name: default
    instruction: accept
`, nil},
		{"shadowed by the same condition", `
version: 1
rules:
  - name: first
    when: task.language == "es"
    instruction: accept
  - name: second
    when: task.language = 'es'
    instruction: accept
  - name: default
    instruction: accept
`, []string{`rule "second" (#2): when: never matches: rule "first" (#1) has the same condition`}},
		{"after an always-true rule", `
version: 1
rules:
  - name: always
    when: 1 == 1
    instruction: accept
  - name: later
    when: task.x == 1
    instruction: accept
  - name: default
    instruction: accept
`, []string{`rule "later" (#2): when: never tried: rule "always" (#1) always matches`}},
		{"AND and OR mixed", `
version: 1
rules:
  - name: mixed
    when: task.a == 1 OR task.b == 2 AND task.c == 3
    instruction: accept
  - name: default
    instruction: accept
`, []string{`rule "mixed" (#1): when: AND and OR mixed without parentheses`}},
		{"update-mode reject without activity", `
version: 1
rules:
  - name: no
    when: task.x == 1
    instruction: reject
    mode: update
  - name: default
    instruction: accept
`, []string{`rule "no" (#1): params: reject without activity_sid`}},
		{"respond dequeue without to", `
version: 1
rules:
  - name: default
    instruction: dequeue
`, []string{`rule "default" (#1): params: dequeue without to dials worker.contact_uri`}},
		{"dequeue without to is fine when the condition requires contact_uri", `
version: 1
rules:
  - name: has-uri
    when: worker.contact_uri CONTAINS "client:"
    instruction: dequeue
  - name: default
    instruction: accept
`, nil},
		{"update-mode dequeue without to is not warned", `
version: 1
rules:
  - name: default
    instruction: dequeue
    mode: update
    params: {from: "+15005550006"}
`, nil},
		{"redirect without accept", `
version: 1
rules:
  - name: voicemail
    when: task.x == 1
    instruction: redirect
    params: {call_sid: "{{task.call_sid}}", url: "https://h/vm"}
  - name: default
    instruction: accept
`, []string{`rule "voicemail" (#1): params: redirect without accept leaves the reservation pending`}},
		{"redirect with accept false is a choice", `
version: 1
rules:
  - name: voicemail
    when: task.x == 1
    instruction: redirect
    params: {call_sid: "{{task.call_sid}}", url: "https://h/vm", accept: false}
  - name: default
    instruction: accept
`, nil},
		// accepted, but warned about.
		{"contacts TaskRouter documents are not warned", `
version: 1
defaults:
  dequeue: {from: "+15005550006"}
rules:
  - {name: e164, when: task.x == 1, instruction: dequeue, params: {to: "+15005550007"}}
  - {name: client, when: task.x == 2, instruction: dequeue, params: {to: "client:joey"}}
  - {name: sip, when: task.x == 3, instruction: dequeue, params: {to: "sip:joey@example.com"}}
  - {name: identity, when: task.x == 4, instruction: dequeue, params: {to: "joey"}}
  - {name: default, instruction: accept}
`, nil},
		{"contacts TaskRouter may not dial are warned", `
version: 1
rules:
  - {name: digits, when: task.x == 1, instruction: dequeue, params: {from: "18001234567", to: "client:a"}}
  - {name: odd, when: task.x == 2, instruction: dequeue, params: {from: "bob@example.com", to: "client:a"}}
  - {name: default, instruction: accept}
`, []string{`rule "digits" (#1): params.from: "18001234567" has no leading +`,
			`rule "odd" (#2): params.from: "bob@example.com" is none of E.164`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.src)
			ws := p.Warnings()
			if len(ws) != len(tt.want) {
				t.Fatalf("got %d warnings %v, want %d", len(ws), ws, len(tt.want))
			}
			for i, w := range ws {
				if !strings.Contains(w.String(), tt.want[i]) {
					t.Errorf("warning %d = %q, want it to contain %q", i, w.String(), tt.want[i])
				}
			}
		})
	}
}

func TestParseModes(t *testing.T) {
	tests := []struct {
		name, src  string
		want       Mode
		hasUpdates bool
	}{
		{"auto conference is update", "version: 1\nrules:\n  - name: d\n    instruction: conference\n    params: {from: \"+15005550006\"}\n", Update, true},
		{"auto dequeue is respond", "version: 1\nrules:\n  - name: d\n    instruction: accept\n", Respond, false},
		{"default mode applies", "version: 1\ndefaults: {mode: update}\nrules:\n  - name: d\n    instruction: accept\n", Update, true},
		{"rule mode wins", "version: 1\ndefaults: {mode: update}\nrules:\n  - name: d\n    instruction: accept\n    mode: respond\n", Respond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.src)
			d := p.Decide(&Input{})
			if d.Mode != tt.want || p.HasUpdateRules() != tt.hasUpdates {
				t.Errorf("mode %s, HasUpdateRules %t; want %s, %t", d.Mode, p.HasUpdateRules(), tt.want, tt.hasUpdates)
			}
			if (d.Mode == Update) != (d.JSON == nil) {
				t.Errorf("mode %s with reply %q: update mode has no reply body, respond mode always has one", d.Mode, d.JSON)
			}
		})
	}
}

func TestParamChecks(t *testing.T) {
	tests := []struct {
		instruction, param string
		value              any
		wantErr            string // "" means accepted
	}{
		{Dequeue, "from", "+15005550006", ""},
		{Dequeue, "from", 15005550006, "quote phone numbers"},
		{Dequeue, "to", "client:alice", ""},
		{Dequeue, "to", "sip:alice@example.com", ""},
		{Dequeue, "to", "alice", ""},
		{Dequeue, "from", "bob", ""},
		{Dequeue, "from", "18001234567", ""},
		{Dequeue, "to", "", "must not be empty"},
		{Dequeue, "to", "client:ali ce", "whitespace or control characters"},
		{Dequeue, "to", "+1 500 555 0006", "whitespace or control characters"},
		{Dequeue, "to", "sip:a@b\r\nX-Evil: 1", "whitespace or control characters"},
		{Dequeue, "timeout", json.Number("20"), ""},
		{Dequeue, "timeout", json.Number("12345678901234567890"), "between 1 and 999, not 12345678901234567890"},
		// JSON has one number type; Python and Jackson write whole doubles as 15.0.
		{Dequeue, "timeout", json.Number("15.0"), ""},
		{Dequeue, "timeout", json.Number("1.5e1"), ""},
		{Dequeue, "timeout", json.Number("150E-1"), ""},
		{Dequeue, "timeout", json.Number("1.5"), "whole number, not 1.5"},
		{Dequeue, "timeout", json.Number("1e3"), "between 1 and 999, not 1e3"},
		{Dequeue, "timeout", json.Number("1e400"), "between 1 and 999, not 1e400"},
		{Dequeue, "timeout", 0, "between 1 and 999"},
		{Dequeue, "timeout", 999, ""},
		{Dequeue, "timeout", 1000, "between 1 and 999"},
		{Dequeue, "timeout", 2.5, "whole number"},
		{Dequeue, "record", "record-from-start", "not one of record-from-answer, do-not-record"},
		{Dequeue, "status_callback_event", []any{"answered", "hangup"}, `"hangup" is not one of`},
		{Dequeue, "status_callback_event", "answered,completed", ""},
		{Dequeue, "post_work_activity_sid", "WA123", "not a SID"},
		{Dequeue, "post_work_activity_sid", "CA0123456789abcdef0123456789abcdef", "not a SID matching ^WA"},
		{Call, "url", "/relative", "absolute http(s) URL"},
		{Call, "accept", "yes", "true or false"},
		{Conference, "max_participants", 1, "between 2 and 250"},
		{Conference, "max_participants", 250, ""},
		{Conference, "beep", true, ""},
		{Conference, "beep", "sometimes", "not one of"},
		{Conference, "conference_record", false, ""},
		{Conference, "region", "eu1", "not one of"},
		{Conference, "jitter_buffer_size", "off", ""},
		{Conference, "wait_method", "PUT", "not one of GET, POST"},
		{Conference, "conference_status_callback_event", []any{"start", "join"}, ""},
		{Conference, "sip_auth_username", "", "must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.instruction+"/"+tt.param, func(t *testing.T) {
			ps := instructions[tt.instruction].lookup(tt.param)
			if ps == nil {
				t.Fatalf("no parameter %s for %s", tt.param, tt.instruction)
			}
			_, err := ps.check(tt.value)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("check(%v) = %v, want accepted", tt.value, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("check(%v) = %v, want error containing %q", tt.value, err, tt.wantErr)
			}
		})
	}
}

func TestExamplePolicyLoads(t *testing.T) {
	p, err := Parse(ExampleName, Example())
	if err != nil {
		t.Fatalf("embedded example policy does not parse:\n%v", err)
	}
	for _, w := range p.Warnings() {
		t.Logf("warning: %s", w)
	}
	// Every instruction appears in the example, so it teaches them all.
	seen := map[string]bool{}
	for _, r := range p.rules {
		seen[r.instruction] = true
	}
	for _, name := range InstructionNames() {
		if !seen[name] {
			t.Errorf("example policy has no %s rule", name)
		}
	}
	d := p.Decide(&Input{Task: map[string]any{}, Worker: map[string]any{}, Callback: map[string]any{}, Now: time.Date(2026, 1, 5, 15, 0, 0, 0, time.UTC)})
	if d.Rule != "default" || string(d.JSON) == "" {
		t.Errorf("empty callback: got rule %q reply %s, want the default dequeue", d.Rule, d.JSON)
	}
	t.Logf("%s", d.JSON)
}

// TestParseTaskRouterRequires: what
// TaskRouter's pages mark required is a load error in the mode that sends
// it, whether the rule or the defaults leave it out.
func TestParseTaskRouterRequires(t *testing.T) {
	const (
		rejectErr     = "a respond-mode reject needs activity_sid, or TaskRouter refuses the reply (error 40100)"
		dequeueErr    = "an update-mode dequeue needs from, or TaskRouter refuses the update (error 40132)"
		conferenceErr = "conference needs from, the caller ID of the call to the worker, or TaskRouter refuses it (errors 40138, 40141)"
	)
	tests := []struct {
		name, src, wantErr string // wantErr "" means the policy loads
	}{
		{"respond reject without activity", "rules:\n  - {name: d, instruction: reject}\n", rejectErr},
		{"auto reject without activity is respond", "defaults: {mode: auto}\nrules:\n  - {name: d, instruction: reject}\n", rejectErr},
		{"respond reject with activity", "rules:\n  - {name: d, instruction: reject, params: {activity_sid: WA0123456789abcdef0123456789abcdef}}\n", ""},
		{"respond reject with activity from defaults", "defaults: {reject: {activity_sid: WA0123456789abcdef0123456789abcdef}}\nrules:\n  - {name: d, instruction: reject}\n", ""},
		{"update reject without activity loads", "rules:\n  - {name: d, instruction: reject, mode: update}\n", ""},
		{"update dequeue without from", "rules:\n  - {name: d, instruction: dequeue, mode: update}\n", dequeueErr},
		{"update dequeue from defaults", "defaults: {mode: update, dequeue: {from: \"+15005550006\"}}\nrules:\n  - {name: d, instruction: dequeue}\n", ""},
		{"respond dequeue without from loads", "rules:\n  - {name: d, instruction: dequeue, params: {to: \"client:a\"}}\n", ""},
		{"conference without from", "rules:\n  - {name: d, instruction: conference}\n", conferenceErr},
		{"respond conference without from", "rules:\n  - {name: d, instruction: conference, mode: respond}\n", conferenceErr},
		{"conference from defaults", "defaults: {conference: {from: \"{{task.to}}\"}}\nrules:\n  - {name: c, when: task.x == 1, instruction: conference}\n  - {name: d, instruction: accept}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte("version: 1\n"+tt.src))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Parse: %v, want it to load", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Parse: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestParseFirstHundredProblems: a file with very
// many problems lists the first MaxProblems and says how many more.
func TestParseFirstHundredProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n")
	for i := range 130 {
		fmt.Fprintf(&b, "  - {name: r%d, when: task.x == %d, instruction: dial}\n", i, i)
	}
	b.WriteString("  - {name: d, instruction: accept}\n")
	_, err := Parse("p.yaml", []byte(b.String()))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Parse: %v, want a *LoadError", err)
	}
	if len(le.Problems) != MaxProblems+1 || le.More != 30 {
		t.Fatalf("got %d problems and More %d, want %d and 30", len(le.Problems), le.More, MaxProblems+1)
	}
	if got, want := le.Problems[MaxProblems].String(), "p.yaml: and 30 more problems not shown; fix these first"; got != want {
		t.Errorf("last problem %q, want %q", got, want)
	}
	if !strings.Contains(le.Problems[MaxProblems-1].String(), `rule "r99" (#100)`) {
		t.Errorf("problem %d is %q, want rule r99's", MaxProblems, le.Problems[MaxProblems-1])
	}
}
