package calendar

import (
	"sort"
	"testing"
	"time"
)

// oracleCalendars are calendars with windows near every kind of
// daylight-saving change, holidays of each kind and windows crossing
// midnight.
const oracleCalendars = `
newyork:
  timezone: America/New_York
  hours:
    Mon-Fri: "08:00-20:00"
    Sat: "10:00-12:00,13:00-16:00,23:30-00:15"
    Sun: "00:30-02:30,22:00-02:00"
  holidays:
    - {date: "2026-12-25", name: Christmas Day}
    - {date: "12-31", name: New Year's Eve, hours: "08:00-14:00"}
    - {rule: "4th Thu of Nov", name: Thanksgiving}
    - {rule: "last Mon of May", name: Memorial Day}
    - {date: "2026-11-01", name: Fall back, hours: "01:00-01:30,01:45-03:00"}
london:
  timezone: Europe/London
  hours: {Mon-Fri: "09:00-17:30", Sun: "00:30-01:30,01:30-02:30"}
  holidays:
    - {rule: "last Mon of Aug", name: Bank holiday}
sydney:
  timezone: Australia/Sydney
  hours: {Mon-Fri: "07:00-19:00", Sat: "20:00-00:30", Sun: "01:00-04:00"}
  holidays:
    - {rule: "1st Mon of Oct", name: Labour Day}
`

// TestOracleYear compares State, MinutesToClose and MinutesToOpen at every
// minute of 2026 with a brute-force computation: every minute's wall time
// is listed, each window's ends are found by searching that list for the
// first minute whose wall clock (never going back) reaches them, and the
// minutes to the next change are counted off a minute-by-minute array.
func TestOracleYear(t *testing.T) {
	set := compileSet(t, oracleCalendars)
	step := 1
	if testing.Short() || raceEnabled {
		step = 13
	}
	for _, name := range set.Names() {
		t.Run(name, func(t *testing.T) { oracleYear(t, set.Lookup(name), step) })
	}
}

func oracleYear(t *testing.T, c *Calendar, step int) {
	start := time.Date(2025, 12, 29, 0, 0, 0, 0, time.UTC).Unix()
	const n = (365 + 3 + 16) * 24 * 60
	// reach[i] is the latest wall time reached by minute i.
	reach := make([]int64, n)
	for i := range reach {
		u := start + int64(i)*60
		l := time.Unix(u, 0).In(c.loc)
		w := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC).Unix()
		if i > 0 {
			w = max(w, reach[i-1])
		}
		reach[i] = w
	}
	first := func(w int64) int { return sort.Search(n, func(i int) bool { return reach[i] >= w }) }
	diff := make([]int, n+1)
	for dn := start/day - 1; dn < start/day+n/1440; dn++ {
		for _, w := range oraclePlan(c, dn) {
			a, b := first(dn*day+int64(w.Start)*60), first(dn*day+int64(w.End)*60)
			diff[a]++
			diff[b]--
		}
	}
	open := make([]bool, n)
	level := 0
	for i := range open {
		level += diff[i]
		open[i] = level > 0
	}
	// next[i] is the first minute at or after i whose openness differs from i's.
	next := make([]int, n)
	next[n-1] = n
	for i := n - 2; i >= 0; i-- {
		next[i] = next[i+1]
		if open[i+1] != open[i] {
			next[i] = i + 1
		}
	}
	end := n - 10*24*60
	bad := 0
	for i := 3 * 24 * 60; i < end && bad < 10; i += step {
		at := time.Unix(start+int64(i)*60, 0)
		st := c.State(at, nil)
		cl, clOK := c.MinutesToClose(at, nil)
		op, opOK := c.MinutesToOpen(at, nil)
		wantCl, wantOp := -1, -1
		if open[i] {
			wantCl = next[i] - i
		} else {
			wantOp = next[i] - i
		}
		if !clOK {
			cl = -1
		}
		if !opOK {
			op = -1
		}
		if st.Open != open[i] || cl != wantCl || op != wantOp {
			bad++
			t.Errorf("%s (%s): open %v, to close %d, to open %d; oracle %v, %d, %d", at.UTC().Format(time.RFC3339),
				at.In(c.loc).Format("Mon 15:04 MST"), st.Open, cl, op, open[i], wantCl, wantOp)
		}
	}
}

// oraclePlan finds a day's windows without Holiday.matches: a rule's day
// is found by counting the month's weekdays one by one.
func oraclePlan(c *Calendar, dn int64) []Window {
	d := time.Unix(dn*day, 0).UTC()
	for _, h := range c.holidays {
		hit := false
		switch h.kind {
		case onDate:
			hit = d.Year() == h.year && d.Month() == h.month && d.Day() == h.day
		case yearly:
			hit = d.Month() == h.month && d.Day() == h.day
		case byRule:
			var days []int
			for x := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC); x.Month() == d.Month(); x = x.AddDate(0, 0, 1) {
				if x.Weekday() == h.weekday {
					days = append(days, x.Day())
				}
			}
			idx := h.nth - 1
			if h.nth < 0 {
				idx = len(days) - 1
			}
			hit = idx < len(days) && d.Month() == h.month && days[idx] == d.Day()
		}
		if hit {
			return h.Hours
		}
	}
	return c.week[d.Weekday()]
}
