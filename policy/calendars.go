package policy

import (
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/assignd/assignd/policy/calendar"
	"github.com/assignd/assignd/policy/expr"
)

// calendars compiles the calendars section, reporting its problems with
// their lines. Without the section the policy has no calendars.
func (ps *parser) calendars(n *yaml.Node) *calendar.Set {
	if n == nil {
		return nil
	}
	set, problems := calendar.CompileYAML(n)
	for _, pr := range problems {
		ps.errorf(pr.Line, nil, pr.Field, "%s", pr.Msg)
	}
	return set
}

// checkTemplateCalendars reports templates that read a calendar the
// policy does not define.
func (ps *parser) checkTemplateCalendars(p *Policy) {
	for i := range p.rules {
		r := &p.rules[i]
		for _, rp := range r.params {
			if rp.tmpl == nil {
				continue
			}
			if err := rp.tmpl.CheckCalendars(p.calendars); err != nil {
				ps.errorf(rp.line, r, "params."+rp.spec.name, "%v", err)
			}
		}
	}
}

// Calendars returns the policy's calendars; nil when it has none.
func (p *Policy) Calendars() *calendar.Set { return p.calendars }

// CalendarStatus is one calendar's state at an instant, as explain shows
// it for each calendar the deciding rules read.
type CalendarStatus struct {
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
	Open     bool   `json:"open"`
	State    string `json:"state"`
	Reason   string `json:"reason,omitempty"`
	// MinutesToClose and MinutesToOpen are nil where the expression reads
	// NULL.
	MinutesToClose *int `json:"minutes_to_close"`
	MinutesToOpen  *int `json:"minutes_to_open"`
	// NextChange is when it next opens or closes, RFC 3339 in its zone,
	// or "" beyond the search horizon.
	NextChange string `json:"next_change,omitempty"`
}

// CalendarStatus returns the named calendar's state at t with the
// overrides ov (which may be nil); ok is false for an unknown calendar.
func (p *Policy) CalendarStatus(name string, t time.Time, ov *calendar.Overrides) (CalendarStatus, bool) {
	c := p.calendars.Lookup(name)
	if c == nil {
		return CalendarStatus{}, false
	}
	ovs := ov.For(name)
	st := c.State(t, ovs)
	cs := CalendarStatus{Name: name, Timezone: c.Location().String(), Open: st.Open, State: st.State, Reason: st.Reason}
	if m, ok := c.MinutesToClose(t, ovs); ok {
		cs.MinutesToClose = &m
	}
	if m, ok := c.MinutesToOpen(t, ovs); ok {
		cs.MinutesToOpen = &m
	}
	if next, ok := c.NextChange(t, ovs); ok {
		cs.NextChange = next.Format(time.RFC3339)
	}
	return cs, true
}

// calendarsRead returns the states of the calendars that rules up to and
// including index last read, in the order the policy defines them.
func (p *Policy) calendarsRead(last int, in *Input) []CalendarStatus {
	all := p.calendars.Names()
	if len(all) == 0 {
		return nil
	}
	var names []string
	for i := 0; i <= last && i < len(p.rules); i++ {
		r := &p.rules[i]
		var refs []*expr.Ref
		if r.when != nil {
			refs = r.when.Refs()
		}
		for _, rp := range r.params {
			if rp.tmpl != nil {
				refs = append(refs, rp.tmpl.Refs()...)
			}
		}
		for _, ref := range refs {
			if name := ref.Calendar(); name != "" && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	var out []CalendarStatus
	for _, name := range all {
		if slices.Contains(names, name) {
			cs, _ := p.CalendarStatus(name, in.Now, in.Overrides)
			out = append(out, cs)
		}
	}
	return out
}

// calendarsSchema describes the calendars section for editors; Parse
// checks what a schema cannot, such as overlapping windows.
func calendarsSchema() map[string]any {
	hours := map[string]any{"type": "string", "description": `windows such as "08:00-12:00,13:00-17:00"; an end at or before the start crosses midnight`}
	return map[string]any{
		"description":   "business calendars, read as calendar.NAME.open, .state, .reason, .minutes_to_close and .minutes_to_open",
		"type":          "object",
		"propertyNames": map[string]any{"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
		"additionalProperties": map[string]any{
			"type": "object", "additionalProperties": false, "required": []string{"timezone"},
			"properties": map[string]any{
				"timezone": map[string]any{"type": "string", "description": "the IANA time zone the calendar is evaluated in", "minLength": 1},
				"hours": map[string]any{
					"type": "object", "description": "day keys Mon..Sun or ranges such as Mon-Fri; a day not listed is closed",
					"additionalProperties": hours,
				},
				"holidays": map[string]any{"type": "array", "items": map[string]any{
					"type": "object", "additionalProperties": false, "required": []string{"name"},
					"properties": map[string]any{
						"date":  map[string]any{"type": "string", "description": "YYYY-MM-DD once, or MM-DD every year"},
						"rule":  map[string]any{"type": "string", "description": `the nth or last weekday of a month, such as "4th Thu of Nov" or "last Mon of May"`},
						"name":  map[string]any{"type": "string"},
						"hours": hours,
					},
				}},
			},
		},
	}
}
