package decisionlog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/policy"
)

// replayPolicy masks by default (it has no decision_log section) and
// reads callback fields, nested attributes and the clock.
const replayPolicy = `
version: 1
timezone: America/New_York
rules:
  - name: night
    when: now.hour < 6 OR now.hour >= 22
    instruction: reject
    params: {activity_sid: WA00000000000000000000000000000002}
  - name: old-task
    when: callback.TaskAge > 120
    instruction: dequeue
    params: {from: "+15005550006", to: "client:{{worker.name}}", timeout: 30}
  - name: by-caller
    when: task.caller CONTAINS "+44"
    instruction: accept
  - name: spanish
    when: task.language == "es" AND worker.languages HAS "es"
    instruction: dequeue
    params: {from: "+15005550006", to: "client:{{worker.name}}"}
  - name: big-account
    when: task.account.size > 9007199254740993
    instruction: accept
  - name: default
    instruction: reject
    params: {activity_sid: WA00000000000000000000000000000001}
`

// mixedStream is a log of decisions by every rule of replayPolicy, some
// of them reading a masked phone number, with outcomes between them and a
// line that is no record.
func mixedStream(t *testing.T, p *policy.Policy) string {
	t.Helper()
	inputs := []string{
		`{"task": {"language": "es"}, "worker": {"languages": ["es"], "name": "ana"}, "callback": {"TaskAge": 3}, "now": "2026-03-02T03:00:00Z"}`,
		`{"task": {"language": "es"}, "worker": {"languages": ["es"], "name": "ana"}, "callback": {"TaskAge": 300}, "now": "2026-03-02T15:00:00Z"}`,
		`{"task": {"language": "es"}, "worker": {"languages": ["es"], "name": "ana"}, "callback": {"TaskAge": 3}, "now": "2026-03-02T15:00:00Z"}`,
		`{"task": {"language": "fr"}, "worker": {"languages": ["es"], "name": "ana"}, "callback": {"TaskAge": 3}, "now": "2026-03-02T15:00:00Z"}`,
		`{"task": {"caller": "+442071234567", "language": "es"}, "worker": {"languages": ["es"]}, "callback": {"TaskAge": 3}, "now": "2026-03-02T15:00:00Z"}`,
		`{"task": {"caller": "+14155550100", "language": "es"}, "worker": {"languages": ["es"], "name": "ana"}, "callback": {"TaskAge": 3}, "now": "2026-03-02T15:00:00Z"}`,
		`{"task": {"account": {"size": 9007199254740995}}, "worker": {}, "callback": {"TaskAge": 0}, "now": "2026-03-02T15:00:00Z"}`,
		`{"task": {"account": {"size": 9007199254740993}}, "worker": {}, "callback": {"TaskAge": 0}, "now": "2026-03-02T15:00:00Z"}`,
	}
	var out testkit.SyncBuffer
	l, err := New(Options{Sink: "stdout", Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	for i, src := range inputs {
		l.Decision(testInput(t, p, src, sid(i)))
		l.Outcome(Outcome{ReservationSid: sid(i), EventType: "reservation.accepted", Received: time.Date(2026, 3, 2, 15, 0, 1, 0, time.UTC)})
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out.String() + `{"level":"info","msg":"not a record"}` + "\n"
}

// TestReplaySamePolicy: re-deciding every replayable record of a mixed
// stream with the policy that decided it gives the same rule and the same
// decision; the records that read a masked value are not replayable and
// name it.
func TestReplaySamePolicy(t *testing.T) {
	p, err := policy.Parse("p.yaml", []byte(replayPolicy))
	if err != nil {
		t.Fatal(err)
	}
	stream := mixedStream(t, p)
	br := bufio.NewReader(strings.NewReader(stream))
	if !Sniff(br) {
		t.Fatal("Sniff does not recognize a decision log")
	}
	r := NewReader(br, 1)
	rules := map[string]int{}
	var outcomes, malformed int
	notReplayable := map[string]int{}
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			malformed++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Record.Kind == KindOutcome {
			outcomes++
			continue
		}
		if err := e.Replayable(p); err != nil {
			var nr *NotReplayable
			if !errors.As(err, &nr) {
				t.Fatalf("Replayable error %T", err)
			}
			notReplayable[nr.Field+" "+nr.Why]++
			continue
		}
		d := p.Decide(e.Input())
		if d.Rule != e.Record.Rule || e.Recorded().Rule != d.Rule {
			t.Errorf("line %d: replayed rule %q, recorded %q", e.Line, d.Rule, e.Record.Rule)
		}
		if out := e.Compare(&d); out != policy.Same {
			t.Errorf("line %d: replay compares %s with the record", e.Line, out)
		}
		rules[d.Rule]++
	}
	// big-account tells 9007199254740995 from 9007199254740993, which
	// float64 cannot: the record keeps large integers as sent.
	want := map[string]int{"night": 1, "old-task": 1, "spanish": 1, "default": 2, "big-account": 1}
	for rule, n := range want {
		if rules[rule] != n {
			t.Errorf("rule %s replayed %d times, want %d (all: %v)", rule, rules[rule], n, rules)
		}
	}
	// Both callers are phone numbers, masked by default, and the policy
	// reads task.caller: those two records cannot be decided again.
	if notReplayable["task.caller masked"] != 2 || len(notReplayable) != 1 {
		t.Errorf("not replayable: %v, want task.caller masked twice", notReplayable)
	}
	if outcomes != 8 || malformed != 1 {
		t.Errorf("%d outcomes and %d malformed lines, want 8 and 1", outcomes, malformed)
	}
}

// TestReplayCandidate: a candidate that reads what the record masked,
// dropped or never recorded cannot be replayed, and the field is named;
// one that changes a parameter compares as params.
func TestReplayCandidate(t *testing.T) {
	live, err := policy.Parse("live.yaml", []byte(leakPolicy))
	if err != nil {
		t.Fatal(err)
	}
	// leakInputs[1]: bad-to is skipped and the default rule decides.
	e := entryOf(t, line(t, testInput(t, live, leakInputs[1], testReservation)))
	for _, tc := range []struct {
		when, field, why string
	}{
		{`task.from == "x"`, "task.from", "masked"},
		{`task.notes == "x"`, "task.notes", "dropped"},
		{`task.queue == "x"`, "task.queue", "not recorded"},
		{`worker.contact_uri == "x"`, "worker.contact_uri", "masked"},
		{`task.language == "de"`, "", ""},
	} {
		cand, err := policy.Parse("cand.yaml", []byte("version: 1\nrules:\n  - name: c\n    when: '"+tc.when+"'\n    instruction: accept\n  - name: default\n    instruction: reject\n    params: {activity_sid: WA00000000000000000000000000000003}\n"))
		if err != nil {
			t.Fatal(err)
		}
		err = e.Replayable(cand)
		var nr *NotReplayable
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v, want replayable", tc.when, err)
		case tc.field == "":
			d := cand.Decide(e.Input())
			if out := e.Compare(&d); d.Rule != "default" || out != policy.Params {
				t.Errorf("%s: candidate decided %s (%s), want default with other params", tc.when, d.Rule, out)
			}
		case !errors.As(err, &nr) || nr.Field != tc.field || nr.Why != tc.why:
			t.Errorf("%s: Replayable = %v, want %s %s", tc.when, err, tc.field, tc.why)
		}
	}
}

func entryOf(t *testing.T, b []byte) *Entry {
	t.Helper()
	e, err := NewReader(bytes.NewReader(b), 1).Next()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// FuzzReader: no input makes the reader, Input, Replayable or Compare
// panic.
func FuzzReader(f *testing.F) {
	p, err := policy.Parse("p.yaml", []byte(replayPolicy))
	if err != nil {
		f.Fatal(err)
	}
	for _, src := range []string{
		`{"v":1,"kind":"decision","rule":"a","instruction":"accept","reads":{"task":["x"],"worker":[],"callback":["TaskAge"]},"inputs":{"task":{"x":1},"worker":null,"callback":{"TaskAge":"x"},"now":"2026-03-02T15:00:00Z"},"params":[1]}`,
		`{"v":1,"kind":"outcome","reservation_sid":"WR1"}`,
		`{"v":2}`, `{"v":1,"kind":"decision"}`, "\n\n{", `{"v":1,"kind":"decision","reads":{"all":true},"inputs":{}}`,
	} {
		f.Add([]byte(src))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), 1)
		for range 100 {
			e, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var le *LineError
			if errors.As(err, &le) {
				continue
			}
			if err != nil {
				return
			}
			if e.Record.Kind != KindDecision {
				continue
			}
			_ = e.Recorded()
			if e.Replayable(p) == nil {
				d := p.Decide(e.Input())
				e.Compare(&d)
			}
		}
	})
}
