// Package calendar implements business calendars: weekly opening hours,
// holidays and time-limited overrides, each evaluated in the calendar's own
// IANA time zone, whatever zone the rest of a policy uses.
//
// Compile does all the fallible work once; evaluating a Calendar at an
// instant (State, MinutesToClose, MinutesToOpen) is pure and does not
// allocate. The package does not depend on the policy package, which reads
// its "calendars" section through CompileYAML.
//
// # Semantics
//
// A day's windows are wall-clock times in the calendar's zone. Each window
// becomes the interval of instants from the first instant whose wall clock
// reads its start to the first instant whose wall clock reads its end (for
// a window crossing midnight, on the next day). Daylight saving follows
// from that rule:
//
//   - On a spring-forward day a wall time inside the skipped hour stands for
//     the instant the clocks jump, so a window touching the gap is shortened
//     (01:00-02:30 in New York on 2026-03-08 is open 01:00-03:00 EDT, one
//     hour) and a window wholly inside it is not open at all.
//   - On a fall-back day a repeated wall time stands for its first
//     occurrence, so a window inside the repeated hour is open once, not
//     twice (01:00-01:30 in New York on 2026-11-01 is open 01:00-01:30 EDT
//     only), and a window spanning the change stays open through the extra
//     hour (00:00-03:00 is open four real hours).
//
// Precedence: an override that applies decides alone; otherwise a holiday
// on the window's day replaces that day's weekly hours (a holiday without
// hours is closed all day); otherwise the weekly hours apply. A window
// crossing midnight belongs to the day it starts on.
package calendar

import (
	"slices"
	"time"
	_ "time/tzdata" // calendars name IANA zones; a distroless image has no zoneinfo
)

// Calendar is one compiled calendar. It is immutable and safe for
// concurrent use.
type Calendar struct {
	name     string
	loc      *time.Location
	week     [7][]Window // indexed by time.Weekday
	holidays []Holiday
	line     int
}

// Name returns the calendar's name, as calendar.NAME reads it.
func (c *Calendar) Name() string { return c.name }

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Line returns where the calendar is defined in the policy.
func (c *Calendar) Line() int { return c.line }

// Hours returns the weekly windows of a weekday.
func (c *Calendar) Hours(wd time.Weekday) []Window { return c.week[wd] }

// Holidays returns the calendar's holidays, in policy order.
func (c *Calendar) Holidays() []Holiday { return c.holidays }

// HolidayOn returns the holiday on local date y-m-d, or nil. When two
// holidays fall on one date, the first listed wins.
func (c *Calendar) HolidayOn(y int, m time.Month, d int) *Holiday {
	if len(c.holidays) == 0 {
		return nil
	}
	wd := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()
	for i := range c.holidays {
		if c.holidays[i].matches(y, m, d, wd) {
			return &c.holidays[i]
		}
	}
	return nil
}

// Set is the compiled calendars of one policy, by name. A nil *Set has no
// calendars.
type Set struct {
	cals   []*Calendar
	byName map[string]*Calendar
}

// Lookup returns the named calendar, or nil.
func (s *Set) Lookup(name string) *Calendar {
	if s == nil {
		return nil
	}
	return s.byName[name]
}

// Names returns the calendar names in policy order.
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	names := make([]string, len(s.cals))
	for i, c := range s.cals {
		names[i] = c.name
	}
	return names
}

// Len returns the number of calendars.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.cals)
}

// add appends a calendar, keeping names unique.
func (s *Set) add(c *Calendar) {
	if s.byName == nil {
		s.byName = map[string]*Calendar{}
	}
	s.cals = append(s.cals, c)
	s.byName[c.name] = c
}

// Problem is one thing wrong in a calendars section or an overrides file,
// with where it is written, so that the loader can report file:line.
type Problem struct {
	Line int
	// Field is the dotted path of the offending key, e.g.
	// "calendars.support.hours.Mon-Fri".
	Field string
	Msg   string
}

// sortedNames returns the names of a set of days for messages.
func sortedNames(days []int) []string {
	s := slices.Clone(days)
	slices.Sort(s)
	out := make([]string, len(s))
	for i, d := range s {
		out[i] = dayNames[d]
	}
	return out
}
