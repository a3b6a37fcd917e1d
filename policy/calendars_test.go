package policy

import (
	"testing"
	"time"

	"github.com/assignd/assignd/policy/calendar"
)

// calendarPolicy is the example: holidays, closing soon, open
// hours, and a catch-all.
const calendarPolicy = `version: 1
timezone: Asia/Tokyo
calendars:
  support:
    timezone: America/New_York
    hours:
      Mon-Fri: "08:00-20:00"
    holidays:
      - {date: "2026-12-25", name: Christmas Day}
rules:
  - name: closed-holiday
    when: calendar.support.state == "holiday"
    instruction: redirect
    params: {call_sid: "{{task.call_sid}}", url: "https://ops.example.com/twiml/holiday?name={{calendar.support.reason}}", accept: true}
  - name: closing-soon
    when: calendar.support.open == true AND calendar.support.minutes_to_close < 10
    instruction: dequeue
  - name: open-hours
    when: calendar.support.open == true
    instruction: accept
  - name: override
    when: calendar.support.state == "override"
    instruction: reject
    params: {activity_sid: WA0123456789abcdef0123456789abcdef}
  - name: after-hours
    instruction: reject
    params: {activity_sid: WA0123456789abcdef0123456789abcdef}
`

func TestDecideWithCalendars(t *testing.T) {
	p := mustParse(t, calendarPolicy)
	ov, problems := calendar.ParseOverrides("ov.yaml", []byte(`overrides:
  - {calendar: support, state: closed, reason: Storm closure, from: "2026-12-03T12:00:00Z", until: "2026-12-03T18:00:00-05:00"}
`), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, tc := range []struct {
		now  string
		ov   *calendar.Overrides
		rule string
	}{
		{"2026-03-09T12:30:00Z", nil, "open-hours"},     // 08:30 EDT, the day after the change
		{"2026-03-09T23:55:00Z", nil, "closing-soon"},   // 19:55 EDT
		{"2026-03-10T00:00:00Z", nil, "after-hours"},    // 20:00 EDT
		{"2026-12-25T15:00:00Z", nil, "closed-holiday"}, // 10:00 EST
		{"2026-12-03T15:00:00Z", ov, "override"},
		{"2026-12-03T15:00:00Z", nil, "open-hours"},
	} {
		in := &Input{Task: map[string]any{"call_sid": "CA0123456789abcdef0123456789abcdef"}, Now: mustTime(t, tc.now), Overrides: tc.ov}
		if d := p.Decide(in); d.Rule != tc.rule {
			t.Errorf("%s: rule %q, want %q", tc.now, d.Rule, tc.rule)
		}
	}
	in := &Input{Task: map[string]any{"call_sid": "CA0123456789abcdef0123456789abcdef"}, Now: mustTime(t, "2026-12-25T15:00:00Z")}
	if url, _ := p.Decide(in).Instruction.Get("url"); url != "https://ops.example.com/twiml/holiday?name=Christmas+Day" {
		t.Errorf("url %v", url)
	}
	ex := p.Explain(in)
	if len(ex.Calendars) != 1 || ex.Calendars[0].State != "holiday" || ex.Calendars[0].MinutesToOpen == nil || *ex.Calendars[0].MinutesToOpen != 4200 {
		t.Errorf("explained calendars %+v", ex.Calendars)
	}
	if rd := p.Reads(); rd.All {
		t.Errorf("Reads().All set by calendar references")
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// TestDecideCalendarAllocs pins the hot path with calendars: a static rule
// reading several calendar keys decides without allocating.
func TestDecideCalendarAllocs(t *testing.T) {
	p := mustParse(t, calendarPolicy)
	in := &Input{Now: time.Date(2026, 3, 9, 12, 30, 0, 0, time.UTC)}
	if d := p.Decide(in); d.Rule != "open-hours" {
		t.Fatalf("rule %q", d.Rule)
	}
	if n := testing.AllocsPerRun(200, func() { p.Decide(in) }); n != 0 {
		t.Errorf("Decide with calendars allocates %.0f times, want 0", n)
	}
}

func BenchmarkDecideCalendar(b *testing.B) {
	p := mustParse(b, calendarPolicy)
	in := &Input{Now: time.Date(2026, 3, 18, 12, 30, 0, 0, time.UTC)}
	for b.Loop() {
		p.Decide(in)
	}
}
