package calendar

import (
	"bytes"
	"fmt"
	"regexp"
	"text/tabwriter"
	"time"

	"github.com/assignd/assignd/internal/jsonout"
)

// Report is what "assignd calendar" prints: each day's effective open
// windows in the calendar's zone and in UTC, with its holidays, the
// overrides that touch it and its clock changes.
type Report struct {
	Calendar string      `json:"calendar"`
	Timezone string      `json:"timezone"`
	From     string      `json:"from"` // YYYY-MM-DD, in the calendar's zone
	Days     []DayReport `json:"days"`
}

// DayReport is one local day of a Report.
type DayReport struct {
	Date    string `json:"date"`
	Weekday string `json:"weekday"`
	// Holiday names the day's holiday; HolidayHours is set when it has
	// reduced hours rather than being closed all day.
	Holiday      string `json:"holiday,omitempty"`
	HolidayHours bool   `json:"holiday_hours,omitempty"`
	// ClockChange says how the clocks change that day, e.g.
	// "02:00 EST -> 03:00 EDT".
	ClockChange string `json:"clock_change,omitempty"`
	// Overrides describe the overrides in force at some time of the day.
	Overrides []string `json:"overrides,omitempty"`
	// Windows are the stretches of time the calendar opens that day; one
	// still open from the day before is listed on the day it opened.
	Windows []ReportWindow `json:"windows"`
}

// ReportWindow is one open stretch: RFC 3339 instants in the calendar's
// zone and in UTC. End is "" when the stretch lasts beyond CloseHorizon.
type ReportWindow struct {
	Start    string `json:"start"`
	End      string `json:"end"`
	StartUTC string `json:"start_utc"`
	EndUTC   string `json:"end_utc"`
	// Note says what opened it when not the weekly hours: "override: REASON"
	// or "holiday hours: NAME".
	Note string `json:"note,omitempty"`

	start, end time.Time
}

// NewReport builds the report of days local days from the date of from
// in the calendar's zone, with the overrides ovs.
func (c *Calendar) NewReport(from time.Time, days int, ovs []Override) *Report {
	l := from.In(c.loc)
	first := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC).Unix() / day
	r := &Report{Calendar: c.name, Timezone: c.loc.String(), From: l.Format("2006-01-02")}
	z := newZoneView(c.loc, from.Unix())
	for i := range int64(days) {
		r.Days = append(r.Days, c.dayReport(&z, first+i, i == 0, ovs))
	}
	return r
}

// dayReport builds one day; on the first day a stretch already open at
// midnight is listed from midnight.
func (c *Calendar) dayReport(z *zoneView, dn int64, first bool, ovs []Override) DayReport {
	start, end := z.resolve(dn*day), z.resolve((dn+1)*day)
	date := time.Unix(dn*day, 0).UTC()
	d := DayReport{Date: date.Format("2006-01-02"), Weekday: dayNames[date.Weekday()], Windows: []ReportWindow{}}
	if h := c.holidayOnDay(dn); h != nil {
		d.Holiday, d.HolidayHours = h.Name, h.Hours != nil
	}
	d.ClockChange = c.clockChange(start, end)
	for _, o := range ovs {
		if o.from < end && o.until > start {
			state := "closed"
			if o.Open {
				state = "open"
			}
			d.Overrides = append(d.Overrides, fmt.Sprintf("%s %s from %s until %s", state, quoteReason(o.Reason),
				c.stamp(o.from), c.stamp(o.until)))
		}
	}
	cur := start
	if !first && c.openWith(z, cur, ovs) {
		// Listed on the day it opened.
		next, ok := c.flip(z, cur, ovs, false, end)
		if !ok {
			return d
		}
		cur = next
	}
	for cur < end {
		a := cur
		if !c.openWith(z, a, ovs) {
			next, ok := c.flip(z, a, ovs, true, end)
			if !ok {
				break
			}
			a = next
		}
		w := ReportWindow{start: time.Unix(a, 0).In(c.loc), Note: c.note(a, ovs)}
		b, ok := c.flip(z, a, ovs, false, a+int64(CloseHorizon/time.Second))
		if !ok {
			d.Windows = append(d.Windows, w.format())
			break
		}
		w.end = time.Unix(b, 0).In(c.loc)
		d.Windows = append(d.Windows, w.format())
		cur = b
	}
	return d
}

func quoteReason(r string) string {
	if r == "" {
		return "(no reason given)"
	}
	return fmt.Sprintf("%q", r)
}

// note says what opened a stretch starting at t.
func (c *Calendar) note(t int64, ovs []Override) string {
	st := c.State(time.Unix(t, 0), ovs)
	switch {
	case st.State == StateOverride:
		return "override: " + st.Reason
	case st.Reason != "":
		return "holiday hours: " + st.Reason
	}
	return ""
}

// stamp formats an instant for notes: local date, time and zone.
func (c *Calendar) stamp(t int64) string {
	return time.Unix(t, 0).In(c.loc).Format("2006-01-02 15:04 MST")
}

// clockChange describes a change of offset between start and end, the
// instants of a day's two midnights.
func (c *Calendar) clockChange(start, end int64) string {
	last := time.Unix(end-1, 0).In(c.loc)
	name0, off0 := time.Unix(start, 0).In(c.loc).Zone()
	if _, off1 := last.Zone(); off0 == off1 {
		return ""
	}
	at, _ := last.ZoneBounds()
	before := at.In(time.FixedZone(name0, off0))
	return before.Format("15:04 MST") + " -> " + at.In(c.loc).Format("15:04 MST")
}

func (w ReportWindow) format() ReportWindow {
	w.Start, w.StartUTC = w.start.Format(time.RFC3339), w.start.UTC().Format(time.RFC3339)
	if !w.end.IsZero() {
		w.End, w.EndUTC = w.end.Format(time.RFC3339), w.end.UTC().Format(time.RFC3339)
	}
	return w
}

// JSON returns the report as indented JSON with a final newline.
func (r *Report) JSON() []byte {
	return jsonout.Indented(r)
}

// Text returns the report as a table for people: one line per window,
// local times then UTC, "+1" on an end that falls on a later day, and a
// line for each of the day's notes.
func (r *Report) Text() []byte {
	var buf bytes.Buffer
	days := fmt.Sprintf("%d days", len(r.Days))
	if len(r.Days) == 1 {
		days = "1 day"
	}
	fmt.Fprintf(&buf, "calendar %s (%s), %s from %s\n", r.Calendar, r.Timezone, days, r.From)
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	for _, d := range r.Days {
		head := d.Weekday + " " + d.Date
		notes := d.notes()
		if len(d.Windows) == 0 {
			first := ""
			if len(notes) > 0 {
				first, notes = notes[0], notes[1:]
			}
			fmt.Fprintf(tw, "%s\tclosed\t\t%s\n", head, first)
			head = ""
		}
		for _, w := range d.Windows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", head, span(w.start, w.end, false), span(w.start, w.end, true), w.Note)
			head = ""
		}
		for _, n := range notes {
			fmt.Fprintf(tw, "\t\t\t%s\n", n)
		}
	}
	tw.Flush()
	// tabwriter pads the last column's empty cells; drop the spaces.
	return trailingSpaces.ReplaceAll(buf.Bytes(), []byte("\n"))
}

var trailingSpaces = regexp.MustCompile(` +\n`)

// notes are the day's holiday, clock change and overrides, for Text; a
// holiday whose reduced hours a window already names is left out.
func (d *DayReport) notes() []string {
	var notes []string
	if d.Holiday != "" {
		shown := false
		for _, w := range d.Windows {
			shown = shown || w.Note == "holiday hours: "+d.Holiday
		}
		switch {
		case !d.HolidayHours:
			notes = append(notes, "holiday: "+d.Holiday)
		case !shown:
			notes = append(notes, "holiday: "+d.Holiday+" (reduced hours)")
		}
	}
	if d.ClockChange != "" {
		notes = append(notes, "clocks change: "+d.ClockChange)
	}
	for _, o := range d.Overrides {
		notes = append(notes, "override "+o)
	}
	return notes
}

// span writes a window as "08:00-20:00 EST", with both zones when they
// differ and "+N" on an end N days later; utc writes it in UTC.
func span(a, b time.Time, utc bool) string {
	if utc {
		a, b = a.UTC(), b.UTC()
	}
	if b.IsZero() {
		return a.Format("15:04 MST") + "-(open beyond " + CloseHorizon.String() + ")"
	}
	ad := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	bd := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	end := b.Format("15:04")
	if n := int(bd.Sub(ad).Hours() / 24); n > 0 {
		end += fmt.Sprintf("+%d", n)
	}
	an, _ := a.Zone()
	bn, _ := b.Zone()
	if an == bn {
		return a.Format("15:04") + "-" + end + " " + an
	}
	return a.Format("15:04 MST") + "-" + end + " " + bn
}
