package calendar

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MinutesPerDay is the length of a wall-clock day in minutes.
const MinutesPerDay = 24 * 60

// maxWindows bounds the windows of one day, so that a hostile policy cannot
// make an evaluation slow.
const maxWindows = 48

// Window is one opening on a day, in minutes after that day's local
// midnight: Start is in [0, 1440) and Start < End <= Start+1440. A window
// whose End passes 1440 crosses midnight and belongs to the day it starts
// on, so a holiday on the next day does not cut it short.
type Window struct {
	Start, End int
}

// String writes the window as the policy does, e.g. "22:00-02:00".
func (w Window) String() string {
	end := w.End
	if end > MinutesPerDay {
		end -= MinutesPerDay
	}
	return clock(w.Start) + "-" + clock(end)
}

// Overnight reports whether the window crosses midnight.
func (w Window) Overnight() bool { return w.End > MinutesPerDay }

// clock formats minutes after midnight as HH:MM; 1440 is 24:00.
func clock(m int) string {
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// HoursError says why an hours string does not parse, and where.
type HoursError struct {
	// Col is the 1-based byte column of the offending window.
	Col int
	// Msg says what was wrong, in lower case.
	Msg string
}

// Error returns e.g. `column 13: "13:00-25:00": 25:00 is not a time of day`.
func (e *HoursError) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

// ParseHours parses one day's windows: "HH:MM-HH:MM" separated by commas,
// such as "08:00-12:00,13:00-17:00". An end of 24:00 is midnight at the end
// of the day; an end at or before the start crosses midnight
// ("22:00-02:00"), and "00:00-24:00" is the whole day. The windows are
// returned sorted by start; windows that overlap are an error.
func ParseHours(s string) ([]Window, error) {
	if strings.TrimSpace(s) == "" {
		return nil, &HoursError{Col: 1, Msg: `empty hours; write windows such as "08:00-20:00"`}
	}
	var ws []Window
	col := 1
	for part := range strings.SplitSeq(s, ",") {
		lead := len(part) - len(strings.TrimLeft(part, " "))
		w, err := parseWindow(strings.TrimSpace(part))
		if err != nil {
			return nil, &HoursError{Col: col + lead, Msg: err.Error()}
		}
		ws = append(ws, w)
		if len(ws) > maxWindows {
			return nil, &HoursError{Col: col + lead, Msg: fmt.Sprintf("more than %d windows in one day", maxWindows)}
		}
		col += len(part) + 1
	}
	slices.SortFunc(ws, func(a, b Window) int { return a.Start - b.Start })
	for i := 1; i < len(ws); i++ {
		if ws[i].Start < ws[i-1].End {
			return nil, &HoursError{Col: 1, Msg: fmt.Sprintf("windows %s and %s overlap", ws[i-1], ws[i])}
		}
	}
	return ws, nil
}

// parseWindow parses "HH:MM-HH:MM".
func parseWindow(s string) (Window, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("%q is not a window such as 08:00-20:00", s)
	}
	start, err := parseClock(strings.TrimSpace(a), false)
	if err != nil {
		return Window{}, fmt.Errorf("%q: %w", s, err)
	}
	end, err := parseClock(strings.TrimSpace(b), true)
	if err != nil {
		return Window{}, fmt.Errorf("%q: %w", s, err)
	}
	if end <= start {
		if end == start && start != 0 {
			return Window{}, fmt.Errorf("%q is empty: it ends when it starts; write 00:00-24:00 for the whole day", s)
		}
		if end == 0 && start == 0 {
			return Window{}, fmt.Errorf("%q is empty; write 00:00-24:00 for the whole day", s)
		}
		end += MinutesPerDay
	}
	return Window{Start: start, End: end}, nil
}

// parseClock parses HH:MM, with 24:00 allowed only as an end.
func parseClock(s string, isEnd bool) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, fmt.Errorf("%q is not a time of day such as 08:30", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && (mm != 0 || !isEnd)) {
		return 0, fmt.Errorf("%q is not a time of day such as 08:30", s)
	}
	return hh*60 + mm, nil
}

// dayNames are the day keys, indexed by time.Weekday.
var dayNames = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// parseDays parses a day key: "Mon" or a range such as "Mon-Fri"; a range
// may wrap round the week ("Fri-Mon"). It returns the weekdays it names.
func parseDays(key string) ([]int, error) {
	a, b, isRange := strings.Cut(key, "-")
	first, ok1 := dayIndex(a)
	last, ok2 := first, true
	if isRange {
		last, ok2 = dayIndex(b)
	}
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%q is not a day (Mon..Sun) or a range of days such as Mon-Fri", key)
	}
	var days []int
	for d := first; ; d = (d + 1) % 7 {
		days = append(days, d)
		if d == last {
			break
		}
	}
	return days, nil
}

func dayIndex(s string) (int, bool) {
	for i, d := range dayNames {
		if s == d {
			return i, true
		}
	}
	return 0, false
}
