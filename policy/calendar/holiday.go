package calendar

import (
	"fmt"
	"strings"
	"time"
)

// holidayKind says how a holiday names its date.
type holidayKind uint8

const (
	onDate holidayKind = iota + 1 // one date: 2026-12-25
	yearly                        // the same month and day every year: 12-31
	byRule                        // the nth or last weekday of a month: 4th Thu of Nov
)

// Holiday is one compiled holiday: closed all day, or open only in Hours.
type Holiday struct {
	// Name is what calendar.NAME.reason reads while the holiday applies.
	Name string
	// Hours are the reduced hours; nil means closed all day.
	Hours []Window
	// Line is where the holiday is written in the policy.
	Line int

	kind    holidayKind
	year    int
	month   time.Month
	day     int          // onDate, yearly
	nth     int          // byRule: 1..5, or -1 for last
	weekday time.Weekday // byRule
	spec    string
}

// Spec returns the holiday's date or rule as written.
func (h *Holiday) Spec() string { return h.spec }

// matches reports whether the holiday falls on the local date y-m-d, whose
// weekday is wd.
func (h *Holiday) matches(y int, m time.Month, d int, wd time.Weekday) bool {
	switch h.kind {
	case onDate:
		return y == h.year && m == h.month && d == h.day
	case yearly:
		return m == h.month && d == h.day
	}
	if m != h.month || wd != h.weekday {
		return false
	}
	if h.nth > 0 {
		return (d-1)/7+1 == h.nth
	}
	return d+7 > daysIn(y, m)
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

var ordinals = map[string]int{"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "last": -1}

// parseHolidayDate parses "2026-12-25" (once) or "12-31" (every year).
func parseHolidayDate(h *Holiday, s string) error {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		h.kind, h.year, h.month, h.day = onDate, t.Year(), t.Month(), t.Day()
		return nil
	}
	// 2024 is a leap year, so 02-29 parses; it then matches in leap years only.
	if t, err := time.Parse("2006-01-02", "2024-"+s); err == nil && len(s) == 5 {
		h.kind, h.month, h.day = yearly, t.Month(), t.Day()
		return nil
	}
	return fmt.Errorf("%q is not a date: write YYYY-MM-DD for one day or MM-DD for every year", s)
}

// parseHolidayRule parses "4th Thu of Nov" or "last Mon of May".
func parseHolidayRule(h *Holiday, s string) error {
	f := strings.Fields(s)
	bad := fmt.Errorf("%q is not a rule such as \"4th Thu of Nov\" or \"last Mon of May\" (1st..5th or last, Mon..Sun, of, Jan..Dec)", s)
	if len(f) != 4 || f[2] != "of" {
		return bad
	}
	nth, ok := ordinals[f[0]]
	wd, okDay := dayIndex(f[1])
	month := 0
	for i, m := range monthNames {
		if f[3] == m {
			month = i + 1
		}
	}
	if !ok || !okDay || month == 0 {
		return bad
	}
	h.kind, h.nth, h.weekday, h.month = byRule, nth, time.Weekday(wd), time.Month(month)
	return nil
}
