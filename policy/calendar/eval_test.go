package calendar

import (
	"strings"
	"testing"
	"time"
)

type want struct {
	open          bool
	state, reason string
	toClose       int // -1: NULL
	toOpen        int // -1: NULL
}

func check(t *testing.T, c *Calendar, at string, ovs []Override, w want) {
	t.Helper()
	tm := mustTime(t, at)
	st := c.State(tm, ovs)
	cl, clOK := c.MinutesToClose(tm, ovs)
	op, opOK := c.MinutesToOpen(tm, ovs)
	if !clOK {
		cl = -1
	}
	if !opOK {
		op = -1
	}
	got := want{st.Open, st.State, st.Reason, cl, op}
	if got != w {
		t.Errorf("%s (%s): got %+v, want %+v", at, tm.In(c.loc).Format("Mon 2006-01-02 15:04 MST"), got, w)
	}
}

func TestNewYorkAroundDaylightSaving(t *testing.T) {
	c := compileSet(t, newYork).Lookup("support")
	for _, tc := range []struct {
		at string
		w  want
	}{
		// Friday before the spring change: EST, 08:00 is 13:00Z.
		{"2026-03-06T12:59:00Z", want{false, "closed", "", -1, 1}},
		{"2026-03-06T13:00:00Z", want{true, "open", "", 720, -1}},
		// Sun 2026-03-08 22:00 EDT is 02:00Z on the 9th; the window runs to 02:00 EDT.
		{"2026-03-09T01:59:00Z", want{false, "closed", "", -1, 1}},
		{"2026-03-09T02:00:00Z", want{true, "open", "", 240, -1}},
		// Monday after the change: 08:30 EDT is 12:30Z.
		{"2026-03-09T12:30:00Z", want{true, "open", "", 690, -1}},
		{"2026-03-09T11:59:00Z", want{false, "closed", "", -1, 1}},
		// Fall back: Sun 2026-11-01 22:00 EST is 03:00Z on the 2nd.
		{"2026-11-02T02:59:00Z", want{false, "closed", "", -1, 1}},
		{"2026-11-02T03:00:00Z", want{true, "open", "", 240, -1}},
		{"2026-11-02T13:00:00Z", want{true, "open", "", 720, -1}},
		// Saturday's two windows: 12:00 closes, 13:00 reopens.
		{"2026-03-07T16:59:00Z", want{true, "open", "", 1, -1}},
		{"2026-03-07T17:00:00Z", want{false, "closed", "", -1, 60}},
		// Christmas (a Friday): holiday all day; Sat 10:00 EST next, 24 hours on.
		{"2026-12-25T15:00:00Z", want{false, "holiday", "Christmas Day", -1, 1440}},
		// New Year's Eve (a Thursday) with reduced hours.
		{"2026-12-31T14:00:00Z", want{true, "open", "New Year's Eve", 300, -1}},
		{"2026-12-31T19:00:00Z", want{false, "holiday", "New Year's Eve", -1, 1080}},
		// Seconds: 19:50:30 EST is 9 whole minutes before 20:00.
		{"2026-03-06T00:50:30Z", want{true, "open", "", 9, -1}},
	} {
		check(t, c, tc.at, nil, tc.w)
	}
}

func TestWindowsOnDaylightSavingDays(t *testing.T) {
	set := compileSet(t, `
ny:
  timezone: America/New_York
  hours:
    Sun: "01:00-02:30,02:40-02:50,04:00-05:00"
fall:
  timezone: America/New_York
  hours:
    Sun: "01:00-01:30"
span:
  timezone: America/New_York
  hours:
    Sun: "00:00-03:00"
`)
	ny, fall, span := set.Lookup("ny"), set.Lookup("fall"), set.Lookup("span")
	// Spring forward 2026-03-08: 01:00 EST (06:00Z) to the jump at 07:00Z, one hour.
	check(t, ny, "2026-03-08T06:00:00Z", nil, want{true, "open", "", 60, -1})
	// 02:40-02:50 does not exist that day; next opening 04:00 EDT (08:00Z).
	check(t, ny, "2026-03-08T07:00:00Z", nil, want{false, "closed", "", -1, 60})
	// Fall back 2026-11-01: 01:00-01:30 EDT (05:00Z-05:30Z) once, not again at 06:00Z.
	check(t, fall, "2026-11-01T05:10:00Z", nil, want{true, "open", "", 20, -1})
	check(t, fall, "2026-11-01T06:10:00Z", nil, want{false, "closed", "", -1, 7*24*60 - 70 + 60})
	// 00:00 EDT (04:00Z) to 03:00 EST (08:00Z): four real hours.
	check(t, span, "2026-11-01T04:00:00Z", nil, want{true, "open", "", 240, -1})
	// Spring: 00:00 EST (05:00Z) to 03:00 EDT (07:00Z): two.
	check(t, span, "2026-03-08T05:00:00Z", nil, want{true, "open", "", 120, -1})
}

func TestOtherZones(t *testing.T) {
	set := compileSet(t, `
london:
  timezone: Europe/London
  hours: {Sun: "00:30-01:30", Mon-Fri: "09:00-17:30"}
sydney:
  timezone: Australia/Sydney
  hours: {Sun: "01:00-04:00", Mon-Fri: "07:00-19:00"}
kolkata:
  timezone: Asia/Kolkata
  hours: {Mon-Sat: "09:30-18:00"}
tokyo:
  timezone: Asia/Tokyo
  hours: {Mon-Fri: "09:00-18:00"}
`)
	// London springs forward 2026-03-29 at 01:00 GMT: 00:30-01:30 is 00:30Z-01:00Z.
	check(t, set.Lookup("london"), "2026-03-29T00:30:00Z", nil, want{true, "open", "", 30, -1})
	// It falls back 2026-10-25 at 02:00 BST: 00:30 BST is 23:30Z the day before, 01:30 BST is 00:30Z.
	check(t, set.Lookup("london"), "2026-10-24T23:30:00Z", nil, want{true, "open", "", 60, -1})
	check(t, set.Lookup("london"), "2026-10-25T01:00:00Z", nil, want{false, "closed", "", -1, 32 * 60})
	// Monday 09:00 BST is 08:00Z before the change, 09:00 GMT 09:00Z after.
	check(t, set.Lookup("london"), "2026-10-19T08:00:00Z", nil, want{true, "open", "", 510, -1})
	check(t, set.Lookup("london"), "2026-10-26T08:00:00Z", nil, want{false, "closed", "", -1, 60})
	// Sydney falls back 2026-04-05 at 03:00 AEDT: 01:00 AEDT (14:00Z on the 4th) to 04:00 AEST (18:00Z).
	check(t, set.Lookup("sydney"), "2026-04-04T14:00:00Z", nil, want{true, "open", "", 240, -1})
	// It springs forward 2026-10-04 at 02:00 AEST: 01:00 AEST (15:00Z on the 3rd) to 04:00 AEDT (17:00Z).
	check(t, set.Lookup("sydney"), "2026-10-03T15:00:00Z", nil, want{true, "open", "", 120, -1})
	// Kolkata is UTC+05:30: 09:30 is 04:00Z.
	check(t, set.Lookup("kolkata"), "2026-06-01T03:59:00Z", nil, want{false, "closed", "", -1, 1})
	check(t, set.Lookup("kolkata"), "2026-06-01T04:00:00Z", nil, want{true, "open", "", 510, -1})
	// Tokyo has no daylight saving: 09:00 JST is 00:00Z all year.
	check(t, set.Lookup("tokyo"), "2026-01-05T00:00:00Z", nil, want{true, "open", "", 540, -1})
	check(t, set.Lookup("tokyo"), "2026-07-06T00:00:00Z", nil, want{true, "open", "", 540, -1})
}

func TestHolidayRules(t *testing.T) {
	c := compileSet(t, newYork).Lookup("support")
	for _, tc := range []struct {
		date string
		name string
	}{
		{"2026-11-26", "Thanksgiving"},
		{"2029-11-22", "Thanksgiving"}, // Nov 1 is a Thursday
		{"2024-11-28", "Thanksgiving"}, // Nov 1 is a Friday
		{"2024-11-21", ""},
		{"2029-11-29", ""},
		{"2026-05-25", "Memorial Day"},
		{"2027-05-31", "Memorial Day"},
		{"2027-05-24", ""},
		{"2026-12-25", "Christmas Day"},
		{"2027-12-25", ""}, // a date holiday is once
		{"2030-12-31", "New Year's Eve"},
	} {
		d, _ := time.Parse("2006-01-02", tc.date)
		h := c.HolidayOn(d.Date())
		got := ""
		if h != nil {
			got = h.Name
		}
		if got != tc.name {
			t.Errorf("%s: got %q, want %q", tc.date, got, tc.name)
		}
	}
}

func TestOvernightAcrossHoliday(t *testing.T) {
	set := compileSet(t, `
a:
  timezone: America/New_York
  hours: {Sun-Thu: "22:00-02:00"}
  holidays:
    - {date: "2026-12-25", name: Christmas Day}
    - {date: "2026-12-27", name: Closed Sunday}
`)
	c := set.Lookup("a")
	// Thu 24th 22:00 runs into the holiday until 02:00 on the 25th; then
	// Sunday is a holiday, so Monday 22:00 is the next opening.
	check(t, c, "2026-12-25T06:30:00Z", nil, want{true, "open", "", 30, -1})
	check(t, c, "2026-12-25T07:00:00Z", nil, want{false, "holiday", "Christmas Day", -1, (3*24 + 20) * 60})
	// Sunday 27th is a holiday, so its 22:00 window does not start and
	// Monday 00:30 is closed, not a holiday.
	check(t, c, "2026-12-28T05:30:00Z", nil, want{false, "closed", "", -1, 22*60 - 30 - 5*60 + 5*60})
}

func TestOverrides(t *testing.T) {
	c := compileSet(t, newYork).Lookup("support")
	loaded := mustTime(t, "2026-12-03T12:00:00Z")
	ov, problems := ParseOverrides("ov.yaml", []byte(`overrides:
  - {calendar: support, state: closed, reason: Storm closure, until: "2026-12-03T18:00:00-05:00"}
  - {calendar: support, state: open,   reason: Extended hours, from: "2026-12-20T20:00:00-05:00", until: "2026-12-20T23:00:00-05:00"}
  - {calendar: support, state: open, reason: Old, from: "2026-11-01T00:00:00Z", until: "2026-11-02T00:00:00Z"}
  - {calendar: other, state: open, until: "2026-12-04T00:00:00Z"}
`), loaded)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if ov.Ended() != 1 || len(ov.All()) != 3 {
		t.Fatalf("ended %d, kept %d; want 1 and 3", ov.Ended(), len(ov.All()))
	}
	ovs := ov.For("support")
	// The storm closure starts at load time and ends at 18:00 EST (23:00Z),
	// two hours before the day's window ends.
	check(t, c, "2026-12-03T11:59:00Z", ovs, want{false, "closed", "", -1, 661})
	check(t, c, "2026-12-03T12:00:00Z", ovs, want{false, "override", "Storm closure", -1, 660})
	check(t, c, "2026-12-03T23:00:00Z", ovs, want{true, "open", "", 120, -1})
	// Extended hours on a Sunday evening run into the 22:00 window: one stretch to 02:00.
	check(t, c, "2026-12-21T01:00:00Z", ovs, want{true, "override", "Extended hours", 360, -1})
	unknown := ov.Unknown(func(name string) bool { return name == "support" })
	if len(unknown) != 1 || unknown[0].Line != 5 {
		t.Errorf("unknown calendars: %+v", unknown)
	}
}

func TestOverrideProblems(t *testing.T) {
	now := mustTime(t, "2026-12-03T12:00:00Z")
	for _, tc := range []struct{ src, msg string }{
		{`overrides: [{calendar: a, state: closed}]`, "missing"},
		{`overrides: [{calendar: a, state: shut, until: "2026-12-04T00:00:00Z"}]`, "not open or closed"},
		{`overrides: [{calendar: a, state: open, until: "2026-12-20T00:00:00Z"}]`, "at most 7 days"},
		{`overrides: [{calendar: a, state: open, from: "2026-12-05T00:00:00Z", until: "2026-12-04T00:00:00Z"}]`, "after from"},
		{`overrides: [{calendar: a, state: open, until: "tomorrow"}]`, "RFC 3339"},
		{`overrides: [{calendar: a, state: open, until: "2026-12-04T00:00:00Z", colour: red}]`, "unknown key"},
	} {
		_, problems := ParseOverrides("f", []byte(tc.src), now)
		if len(problems) == 0 || !containsMsg(problems, tc.msg) {
			t.Errorf("%s: problems %+v, want one saying %q", tc.src, problems, tc.msg)
		}
	}
}

func containsMsg(ps []Problem, s string) bool {
	for _, p := range ps {
		if len(p.Msg) >= len(s) && strings.Contains(p.Msg, s) {
			return true
		}
	}
	return false
}
