package calendar

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// namePattern is what a calendar name must look like to be read as
// calendar.NAME in an expression.
var namePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// compiler collects every problem of a calendars section.
type compiler struct {
	problems []Problem
}

func (c *compiler) errorf(line int, field, format string, args ...any) {
	c.problems = append(c.problems, Problem{Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// fields checks that n is a mapping with only allowed keys (any key when
// allowed is nil) and returns its values by key, in order.
func (c *compiler) fields(n *yaml.Node, field string, allowed []string) ([]*yaml.Node, map[string]*yaml.Node) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		c.errorf(n.Line, field, "must be a mapping")
		return nil, nil
	}
	var keys []*yaml.Node
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if allowed != nil && !contains(allowed, k.Value) {
			c.errorf(k.Line, joinField(field, k.Value), "unknown key; known: %s", strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			c.errorf(k.Line, joinField(field, k.Value), "given twice")
			continue
		}
		keys = append(keys, k)
		out[k.Value] = v
	}
	return keys, out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func joinField(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// scalar returns a string scalar's value, reporting anything else.
func (c *compiler) scalar(n *yaml.Node, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		c.errorf(n.Line, field, "must be a string")
		return "", false
	}
	return n.Value, true
}

// CompileYAML compiles a policy's calendars section: a mapping from
// calendar name to timezone, hours and holidays. It reports every problem,
// each with its line. The Set names every calendar written, so that a
// caller's checks of references do not cascade from one bad calendar, but
// it may be evaluated only when there are no problems.
func CompileYAML(n *yaml.Node) (*Set, []Problem) {
	c := &compiler{}
	set := &Set{}
	keys, vals := c.fields(n, "calendars", nil)
	for _, k := range keys {
		field := "calendars." + k.Value
		if !namePattern.MatchString(k.Value) {
			c.errorf(k.Line, field, "a calendar name must be letters, digits and '_', starting with a letter, to be read as calendar.%s", k.Value)
			continue
		}
		set.add(c.calendar(k.Value, k.Line, vals[k.Value], field))
	}
	return set, c.problems
}

// calendar compiles one calendar.
func (c *compiler) calendar(name string, line int, n *yaml.Node, field string) *Calendar {
	cal := &Calendar{name: name, line: line}
	_, f := c.fields(n, field, []string{"timezone", "hours", "holidays"})
	if f == nil {
		return cal
	}
	if tz, ok := f["timezone"]; !ok {
		c.errorf(n.Line, field+".timezone", "missing: every calendar needs an IANA time zone such as America/New_York")
	} else if s, ok := c.scalar(tz, field+".timezone"); ok {
		loc, err := time.LoadLocation(s)
		if err != nil || s == "" || strings.EqualFold(s, "local") {
			c.errorf(tz.Line, field+".timezone", "%q is not an IANA time zone such as America/New_York", s)
		}
		cal.loc = loc
	}
	if h, ok := f["hours"]; ok {
		c.hours(cal, h, field+".hours")
	}
	if h, ok := f["holidays"]; ok {
		c.holidays(cal, h, field+".holidays")
	}
	return cal
}

// hours compiles the weekly hours and checks that windows crossing
// midnight do not overlap the next day's.
func (c *compiler) hours(cal *Calendar, n *yaml.Node, field string) {
	keys, vals := c.fields(n, field, nil)
	var lines [7]int
	for _, k := range keys {
		kf := joinField(field, k.Value)
		days, err := parseDays(k.Value)
		if err != nil {
			c.errorf(k.Line, kf, "%v", err)
			continue
		}
		s, ok := c.scalar(vals[k.Value], kf)
		if !ok {
			continue
		}
		ws, err := ParseHours(s)
		if err != nil {
			c.errorf(vals[k.Value].Line, kf, "%v", err)
			continue
		}
		for _, d := range days {
			if lines[d] != 0 {
				c.errorf(k.Line, kf, "%s already has hours (line %d)", dayNames[d], lines[d])
				continue
			}
			lines[d] = k.Line
			cal.week[d] = ws
		}
	}
	for d := range 7 {
		next := (d + 1) % 7
		if ws, nws := cal.week[d], cal.week[next]; len(ws) > 0 && len(nws) > 0 {
			if last := ws[len(ws)-1]; last.End-MinutesPerDay > nws[0].Start {
				c.errorf(lines[d], field, "%s %s overlaps %s %s", dayNames[d], last, dayNames[next], nws[0])
			}
		}
	}
}

// holidays compiles the holiday list.
func (c *compiler) holidays(cal *Calendar, n *yaml.Node, field string) {
	if n.Kind != yaml.SequenceNode {
		c.errorf(n.Line, field, "must be a list of holidays such as {date: \"2026-12-25\", name: Christmas Day}")
		return
	}
	for i, hn := range n.Content {
		hf := fmt.Sprintf("%s[%d]", field, i)
		_, f := c.fields(hn, hf, []string{"date", "rule", "name", "hours"})
		if f == nil {
			continue
		}
		h := Holiday{Line: deref(hn).Line}
		dn, hasDate := f["date"]
		rn, hasRule := f["rule"]
		switch {
		case hasDate == hasRule:
			c.errorf(h.Line, hf, "needs exactly one of date (YYYY-MM-DD or MM-DD) and rule (such as \"4th Thu of Nov\")")
			continue
		case hasDate:
			if s, ok := c.scalar(dn, hf+".date"); ok {
				h.spec = s
				if err := parseHolidayDate(&h, s); err != nil {
					c.errorf(dn.Line, hf+".date", "%v", err)
				}
			}
		default:
			if s, ok := c.scalar(rn, hf+".rule"); ok {
				h.spec = s
				if err := parseHolidayRule(&h, s); err != nil {
					c.errorf(rn.Line, hf+".rule", "%v", err)
				}
			}
		}
		if nn, ok := f["name"]; !ok {
			c.errorf(h.Line, hf+".name", "missing: calendar.NAME.reason reads it")
		} else if s, ok := c.scalar(nn, hf+".name"); ok {
			h.Name = s
		}
		if hh, ok := f["hours"]; ok {
			c.holidayHours(&h, hh, hf+".hours")
		}
		cal.holidays = append(cal.holidays, h)
	}
}

// holidayHours compiles a holiday's reduced hours, which must lie within
// the day: a holiday is one date, so its hours may not run into the next.
func (c *compiler) holidayHours(h *Holiday, n *yaml.Node, field string) {
	s, ok := c.scalar(n, field)
	if !ok {
		return
	}
	ws, err := ParseHours(s)
	if err != nil {
		c.errorf(n.Line, field, "%v", err)
		return
	}
	for _, w := range ws {
		if w.Overnight() {
			c.errorf(n.Line, field, "%s falls outside the holiday: a holiday's hours must end by 24:00", w)
			return
		}
	}
	h.Hours = ws
}
