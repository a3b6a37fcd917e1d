package calendar

import (
	"strings"
	"testing"
	"time"
)

func TestParseHours(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // the windows joined, or "error: ..." with part of the message
	}{
		{"08:00-20:00", "08:00-20:00"},
		{"13:00-16:00, 10:00-12:00", "10:00-12:00,13:00-16:00"},
		{"22:00-02:00", "22:00-02:00"},
		{"00:00-24:00", "00:00-24:00"},
		{"20:00-00:00", "20:00-24:00"},
		{"10:00-12:00,12:00-13:00", "10:00-12:00,12:00-13:00"},
		{"", "error: empty"},
		{"08:00", "error: not a window"},
		{"08:00-25:00", "error: not a time of day"},
		{"24:00-02:00", "error: not a time of day"},
		{"8:00-20:00", "error: not a time of day"},
		{"08:60-20:00", "error: not a time of day"},
		{"08:00-08:00", "error: is empty"},
		{"00:00-00:00", "error: is empty"},
		{"08:00-12:00,11:00-13:00", "error: overlap"},
		{"08:00-12:00,x", "error: column 13"},
	} {
		ws, err := ParseHours(tc.in)
		var got string
		if err != nil {
			got = "error: " + err.Error()
		} else {
			var parts []string
			for _, w := range ws {
				parts = append(parts, w.String())
			}
			got = strings.Join(parts, ",")
		}
		if got != tc.want && !(strings.HasPrefix(tc.want, "error: ") && strings.HasPrefix(got, "error: ") && strings.Contains(got, strings.TrimPrefix(tc.want, "error: "))) {
			t.Errorf("ParseHours(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzParseHours checks that every accepted string yields sorted,
// non-overlapping windows of legal length that print back to an
// equivalent string.
func FuzzParseHours(f *testing.F) {
	for _, s := range []string{"08:00-20:00", "10:00-12:00,13:00-16:00", "22:00-02:00", "00:00-24:00", " 09:30 - 17:45 ", "24:00-01:00", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ws, err := ParseHours(s)
		if err != nil {
			return
		}
		parts := make([]string, len(ws))
		for i, w := range ws {
			if w.Start < 0 || w.Start >= MinutesPerDay || w.End <= w.Start || w.End > w.Start+MinutesPerDay {
				t.Fatalf("%q: bad window %+v", s, w)
			}
			if i > 0 && w.Start < ws[i-1].End {
				t.Fatalf("%q: windows overlap: %+v", s, ws)
			}
			parts[i] = w.String()
		}
		again, err := ParseHours(strings.Join(parts, ","))
		if err != nil || len(again) != len(ws) {
			t.Fatalf("%q printed as %q does not parse back: %v", s, strings.Join(parts, ","), err)
		}
		for i := range ws {
			if again[i] != ws[i] {
				t.Fatalf("%q: %+v parses back as %+v", s, ws, again)
			}
		}
	})
}

func TestCompileProblems(t *testing.T) {
	for _, tc := range []struct{ src, field, msg string }{
		{"a: {hours: {Mon: \"08:00-20:00\"}}", "calendars.a.timezone", "missing"},
		{"a: {timezone: Mars/Olympus}", "calendars.a.timezone", "not an IANA time zone"},
		{"a: {timezone: UTC, hours: {Mon-Fri: \"08:00-20:00\", Fri: \"09:00-10:00\"}}", "calendars.a.hours.Fri", "already has hours"},
		{"a: {timezone: UTC, hours: {Monday: \"08:00-20:00\"}}", "calendars.a.hours.Monday", "not a day"},
		{"a: {timezone: UTC, hours: {Mon: \"22:00-03:00\", Tue: \"02:00-04:00\"}}", "calendars.a.hours", "overlaps"},
		{"a: {timezone: UTC, hours: {Mon: \"08:00-12:00,11:00-13:00\"}}", "calendars.a.hours.Mon", "overlap"},
		{"a: {timezone: UTC, holidays: [{date: \"12-31\", name: x, hours: \"20:00-02:00\"}]}", "calendars.a.holidays[0].hours", "falls outside the holiday"},
		{"a: {timezone: UTC, holidays: [{rule: \"6th Mon of May\", name: x}]}", "calendars.a.holidays[0].rule", "not a rule"},
		{"a: {timezone: UTC, holidays: [{date: \"2026-02-30\", name: x}]}", "calendars.a.holidays[0].date", "not a date"},
		{"a: {timezone: UTC, holidays: [{name: x}]}", "calendars.a.holidays[0]", "exactly one of date"},
		{"my-cal: {timezone: UTC}", "calendars.my-cal", "calendar name"},
		{"a: {timezone: UTC, colour: red}", "calendars.a.colour", "unknown key"},
	} {
		_, problems := compileSrc(t, tc.src)
		found := false
		for _, p := range problems {
			found = found || (p.Field == tc.field && strings.Contains(p.Msg, tc.msg) && p.Line == 1)
		}
		if !found {
			t.Errorf("%s: problems %+v, want %s: ...%s...", tc.src, problems, tc.field, tc.msg)
		}
	}
}

func TestStateDoesNotAllocate(t *testing.T) {
	c := compileSet(t, oracleCalendars).Lookup("newyork")
	at := time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC) // on the spring-forward change
	n := testing.AllocsPerRun(100, func() {
		c.State(at, nil)
		c.MinutesToClose(at, nil)
		c.MinutesToOpen(at, nil)
	})
	if n != 0 {
		t.Errorf("%v allocations per evaluation", n)
	}
}

func BenchmarkState(b *testing.B) {
	c := compileSet(b, newYork).Lookup("support")
	at := time.Date(2026, 3, 16, 12, 30, 0, 0, time.UTC)
	b.Run("state", func(b *testing.B) {
		for b.Loop() {
			c.State(at, nil)
		}
	})
	b.Run("minutes_to_close", func(b *testing.B) {
		for b.Loop() {
			c.MinutesToClose(at, nil)
		}
	})
	b.Run("minutes_to_close_day_after_dst_change", func(b *testing.B) {
		after := time.Date(2026, 3, 9, 12, 30, 0, 0, time.UTC)
		for b.Loop() {
			c.MinutesToClose(after, nil)
		}
	})
	b.Run("minutes_to_open_over_a_holiday", func(b *testing.B) {
		xmas := time.Date(2026, 12, 25, 15, 0, 0, 0, time.UTC)
		for b.Loop() {
			c.MinutesToOpen(xmas, nil)
		}
	})
}
