package expr

import (
	"fmt"
	"strings"

	"github.com/assignd/assignd/policy/calendar"
)

// calendarField is one of the keys of calendar.NAME.
type calendarField uint8

const (
	calOpen calendarField = iota + 1
	calState
	calReason
	calMinutesToClose
	calMinutesToOpen
)

// calendarFields are the keys a calendar reference may end in.
var calendarFields = map[string]calendarField{
	"open": calOpen, "state": calState, "reason": calReason,
	"minutes_to_close": calMinutesToClose, "minutes_to_open": calMinutesToOpen,
}

const calendarKeys = "open, state, reason, minutes_to_close and minutes_to_open"

// calendarRef checks a calendar.NAME.KEY reference as parsed so far. Which
// names exist is the policy's to say, through CheckCalendars; the key is
// checked here. The reference has no spaces, so positions follow from the
// root's.
func (p *parser) calendarRef(ref *Ref, rootTok *token, text string) error {
	if len(ref.steps) != 2 || ref.steps[0].index >= 0 || ref.steps[1].index >= 0 {
		return p.errAt(rootTok.pos, "%s is not a calendar reference; write calendar.NAME.KEY, where KEY is one of %s", text, calendarKeys)
	}
	ref.cal = ref.steps[0].key
	ref.calPos = rootTok.end + 1
	if ref.calField = calendarFields[ref.steps[1].key]; ref.calField == 0 {
		return p.errAt(ref.calPos+len(ref.cal)+1, "unknown key %q of calendar.%s; a calendar has %s", ref.steps[1].key, ref.cal, calendarKeys)
	}
	return nil
}

// Calendar returns the calendar a calendar.NAME.KEY reference reads, or "".
func (r *Ref) Calendar() string { return r.cal }

// CheckCalendars returns a *SyntaxError, with the column of the name, for
// the first calendar the expression reads that set does not define.
func (e *Expr) CheckCalendars(set *calendar.Set) error {
	for _, ref := range e.Refs() {
		if ref.cal != "" && set.Lookup(ref.cal) == nil {
			return newSyntaxError(e.src, ref.calPos, "unknown calendar %q; %s", ref.cal, definedCalendars(set))
		}
	}
	return nil
}

// CheckCalendars returns an error naming the first placeholder that reads
// a calendar set does not define.
func (t *Template) CheckCalendars(set *calendar.Set) error {
	for _, ref := range t.Refs() {
		if ref.cal != "" && set.Lookup(ref.cal) == nil {
			return fmt.Errorf("placeholder {{%s}}: unknown calendar %q; %s", ref.text, ref.cal, definedCalendars(set))
		}
	}
	return nil
}

func definedCalendars(set *calendar.Set) string {
	if set.Len() == 0 {
		return "the policy has no calendars section"
	}
	return "the policy defines " + strings.Join(set.Names(), ", ")
}

// calendar evaluates a calendar reference at env.Instant, with the
// overrides in env.Overrides. A calendar env does not hold is NULL.
func (env *Env) calendar(r *Ref) value {
	c := env.Calendars.Lookup(r.cal)
	if c == nil {
		return value{}
	}
	ovs := env.Overrides.For(r.cal)
	switch r.calField {
	case calOpen:
		return value{k: jBool, b: c.State(env.Instant, ovs).Open}
	case calState:
		return value{k: jStr, s: c.State(env.Instant, ovs).State}
	case calReason:
		if s := c.State(env.Instant, ovs).Reason; s != "" {
			return value{k: jStr, s: s}
		}
		return value{}
	case calMinutesToClose:
		if m, ok := c.MinutesToClose(env.Instant, ovs); ok {
			return value{k: jNum, n: float64(m)}
		}
		return value{}
	}
	if m, ok := c.MinutesToOpen(env.Instant, ovs); ok {
		return value{k: jNum, n: float64(m)}
	}
	return value{}
}

// calendarLookup is lookup for a calendar reference: the value as JSON,
// or nil and why it is NULL.
func (env *Env) calendarLookup(r *Ref) (any, string) {
	v := env.calendar(r)
	switch v.k {
	case jBool:
		return v.b, ""
	case jStr:
		return v.s, ""
	case jNum:
		return v.n, ""
	}
	switch {
	case env.Calendars.Lookup(r.cal) == nil:
		return nil, "no calendar " + r.cal + " in this evaluation"
	case r.calField == calReason:
		return nil, "no holiday or override applies"
	case r.calField == calMinutesToClose:
		return nil, "closed, or open beyond the search horizon"
	}
	return nil, "open, or closed beyond the search horizon"
}
