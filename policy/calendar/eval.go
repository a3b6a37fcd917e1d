package calendar

import (
	"math"
	"time"
)

// States a calendar can be in, as calendar.NAME.state reads them.
const (
	StateOpen     = "open"
	StateClosed   = "closed"
	StateHoliday  = "holiday"
	StateOverride = "override"
)

// Search horizons: MinutesToClose looks at most CloseHorizon ahead and
// MinutesToOpen at most OpenHorizon, and report no value beyond. A calendar
// open around the clock therefore has no minutes_to_close, and one closed
// for more than a year no minutes_to_open.
const (
	CloseHorizon = 8 * 24 * time.Hour
	OpenHorizon  = 366 * 24 * time.Hour
)

const day = 24 * 60 * 60 // seconds

// maxSteps bounds the changes a minutes search walks through.
const maxSteps = 4096

// State is a calendar's state at an instant.
type State struct {
	// Open is calendar.NAME.open.
	Open bool
	// State is StateOpen, StateClosed, StateHoliday or StateOverride.
	State string
	// Reason is the holiday's or override's name, or "" (NULL).
	Reason string
}

// State returns the calendar's state at t, given the overrides that name
// it (see Overrides.For). It does not allocate.
func (c *Calendar) State(t time.Time, ovs []Override) State {
	u := t.Unix()
	if o := active(ovs, u); o != nil {
		return State{Open: o.Open, State: StateOverride, Reason: o.Reason}
	}
	z := newZoneView(c.loc, u)
	if open, h := c.openAt(&z, u); open {
		st := State{Open: true, State: StateOpen}
		if h != nil {
			st.Reason = h.Name
		}
		return st
	}
	if h := c.holidayOnDay(floorDiv(z.wall(u), day)); h != nil {
		return State{State: StateHoliday, Reason: h.Name}
	}
	return State{State: StateClosed}
}

// MinutesToClose returns the whole minutes (rounded down) from t until the
// calendar next closes, counting back-to-back windows and overrides as one
// stretch; ok is false when it is closed at t or stays open past
// CloseHorizon.
func (c *Calendar) MinutesToClose(t time.Time, ovs []Override) (int, bool) {
	return c.minutesUntil(t, ovs, false, CloseHorizon)
}

// MinutesToOpen returns the whole minutes (rounded down) from t until the
// calendar next opens; ok is false when it is open at t or stays closed
// past OpenHorizon.
func (c *Calendar) MinutesToOpen(t time.Time, ovs []Override) (int, bool) {
	return c.minutesUntil(t, ovs, true, OpenHorizon)
}

// NextChange returns the first instant after t at which the calendar opens
// or closes, within OpenHorizon; ok is false when there is none.
func (c *Calendar) NextChange(t time.Time, ovs []Override) (time.Time, bool) {
	u := t.Unix()
	z := newZoneView(c.loc, u)
	was := c.openWith(&z, u, ovs)
	at, ok := c.flip(&z, u, ovs, !was, u+int64(OpenHorizon/time.Second))
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(at, 0).In(c.loc), true
}

func (c *Calendar) minutesUntil(t time.Time, ovs []Override, want bool, horizon time.Duration) (int, bool) {
	u := t.Unix()
	z := newZoneView(c.loc, u)
	if c.openWith(&z, u, ovs) == want {
		return 0, false
	}
	at, ok := c.flip(&z, u, ovs, want, u+int64(horizon/time.Second))
	if !ok {
		return 0, false
	}
	return int((at - u) / 60), true
}

// flip returns the first instant after t, before limit, at which the
// calendar's openness is want.
func (c *Calendar) flip(z *zoneView, t int64, ovs []Override, want bool, limit int64) (int64, bool) {
	cur := t
	for range maxSteps {
		n := c.nextEdge(z, cur, limit)
		for i := range ovs {
			if f := ovs[i].from; f > cur && f < n {
				n = f
			}
			if e := ovs[i].until; e > cur && e < n {
				n = e
			}
		}
		if n >= limit {
			return 0, false
		}
		cur = n
		if c.openWith(z, cur, ovs) == want {
			return cur, true
		}
	}
	return 0, false
}

// openWith is whether the calendar is open at t, overrides first.
func (c *Calendar) openWith(z *zoneView, t int64, ovs []Override) bool {
	if o := active(ovs, t); o != nil {
		return o.Open
	}
	open, _ := c.openAt(z, t)
	return open
}

// active returns the first listed override that applies at t.
func active(ovs []Override, t int64) *Override {
	for i := range ovs {
		if ovs[i].from <= t && t < ovs[i].until {
			return &ovs[i]
		}
	}
	return nil
}

// plan returns the windows of local day dn (days since 1970-01-01) and
// the holiday that set them, if any.
func (c *Calendar) plan(dn int64) ([]Window, *Holiday) {
	if h := c.holidayOnDay(dn); h != nil {
		return h.Hours, h
	}
	return c.week[weekdayOf(dn)], nil
}

func (c *Calendar) holidayOnDay(dn int64) *Holiday {
	if len(c.holidays) == 0 {
		return nil
	}
	y, m, d := time.Unix(dn*day, 0).UTC().Date()
	wd := weekdayOf(dn)
	for i := range c.holidays {
		if c.holidays[i].matches(y, m, d, wd) {
			return &c.holidays[i]
		}
	}
	return nil
}

// weekdayOf returns the weekday of day dn; 1970-01-01 was a Thursday.
func weekdayOf(dn int64) time.Weekday {
	return time.Weekday(((dn+4)%7 + 7) % 7)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// openAt reports whether t lies in a window, and the holiday whose hours
// the window is, if any. Windows of the day before (crossing midnight) and
// of the day after (reachable only through a repeated hour at midnight)
// are looked at too.
func (c *Calendar) openAt(z *zoneView, t int64) (bool, *Holiday) {
	dn := floorDiv(z.wall(t), day)
	for d := dn - 1; d <= dn+1; d++ {
		ws, h := c.plan(d)
		for _, w := range ws {
			if z.resolve(d*day+int64(w.Start)*60) > t {
				break
			}
			if t < z.resolve(d*day+int64(w.End)*60) {
				return true, h
			}
		}
	}
	return false, nil
}

// nextEdge returns the first window start or end after t, or limit if
// there is none before it.
func (c *Calendar) nextEdge(z *zoneView, t, limit int64) int64 {
	best := limit
	dn := floorDiv(z.wall(t), day)
	for d := dn - 1; z.resolve(d*day) < best; d++ {
		ws, _ := c.plan(d)
		for _, w := range ws {
			a := z.resolve(d*day + int64(w.Start)*60)
			if a >= best {
				break
			}
			if a > t {
				// Later windows of the day start after this one ends.
				best = a
				break
			}
			if b := z.resolve(d*day + int64(w.End)*60); b > t && b < best {
				best = b
			}
		}
	}
	return best
}

// zoneView converts between instants and wall times (both in seconds, a
// wall time counted as if it were UTC) in one zone. Inside [lo, hi), a day
// clear of the edges of one zone period, it uses that period's fixed
// offset, which is exact there; elsewhere it asks the zone.
type zoneView struct {
	loc    *time.Location
	off    int64
	lo, hi int64
}

func newZoneView(loc *time.Location, t int64) zoneView {
	lt := time.Unix(t, 0).In(loc)
	_, off := lt.Zone()
	start, end := lt.ZoneBounds()
	z := zoneView{loc: loc, off: int64(off), lo: math.MinInt64, hi: math.MaxInt64}
	if !start.IsZero() {
		z.lo = start.Unix() + day
	}
	if !end.IsZero() {
		z.hi = end.Unix() - day
	}
	return z
}

// wall returns the wall time at instant t.
func (z *zoneView) wall(t int64) int64 {
	if t >= z.lo && t < z.hi {
		return t + z.off
	}
	_, off := time.Unix(t, 0).In(z.loc).Zone()
	return t + int64(off)
}

// resolve returns the first instant whose wall time is w or later: w's
// only instant, the first of two on a fall-back day, or the instant the
// clocks jump when w is skipped on a spring-forward day. The fast path is
// exact because no transition moves clocks by a day.
func (z *zoneView) resolve(w int64) int64 {
	if u := w - z.off; u >= z.lo && u < z.hi {
		return u
	}
	u := resolveSlow(z.loc, w)
	*z = newZoneView(z.loc, u)
	return u
}

func resolveSlow(loc *time.Location, w int64) int64 {
	best, maxOff := int64(math.MaxInt64), int64(math.MinInt64)
	for _, probe := range [...]int64{w - day, w, w + day} {
		_, o := time.Unix(probe, 0).In(loc).Zone()
		off := int64(o)
		maxOff = max(maxOff, off)
		u := w - off
		if _, o2 := time.Unix(u, 0).In(loc).Zone(); int64(o2) == off && u < best {
			best = u
		}
	}
	if best != math.MaxInt64 {
		return best
	}
	// w is skipped: just before the jump the larger offset is not yet in
	// force, and the period there ends at the jump.
	_, end := time.Unix(w-maxOff, 0).In(loc).ZoneBounds()
	return end.Unix()
}
