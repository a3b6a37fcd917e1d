package calendar

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxOverride is the longest an override may last: an override is for an
// emergency or a one-off, and a lasting change belongs in the policy.
const MaxOverride = 7 * 24 * time.Hour

// Override sets a calendar open or closed from From until Until, ahead of
// its holidays and weekly hours.
type Override struct {
	Calendar string
	Open     bool
	Reason   string
	From     time.Time
	Until    time.Time
	// Line is where the override is written in its file.
	Line int

	from, until int64 // unix seconds
}

// Overrides is one compiled overrides file. It is immutable and safe for
// concurrent use; a nil *Overrides has none.
type Overrides struct {
	file   string
	byCal  map[string][]Override
	all    []Override
	ended  int
	loaded time.Time
}

// For returns the overrides of the named calendar, in file order, for
// Calendar.State and the minutes searches. It does not allocate.
func (o *Overrides) For(name string) []Override {
	if o == nil {
		return nil
	}
	return o.byCal[name]
}

// All returns every override still in force or to come, in file order.
func (o *Overrides) All() []Override {
	if o == nil {
		return nil
	}
	return o.all
}

// Ended returns how many overrides in the file had already ended when it
// was loaded; they are ignored.
func (o *Overrides) Ended() int {
	if o == nil {
		return 0
	}
	return o.ended
}

// File returns the name the overrides were parsed under.
func (o *Overrides) File() string {
	if o == nil {
		return ""
	}
	return o.file
}

// Unknown returns a problem for each override naming a calendar that
// lookup does not know: the policy running beside the file has no such
// calendar, so the override would never apply.
func (o *Overrides) Unknown(lookup func(string) bool) []Problem {
	var out []Problem
	for _, ov := range o.All() {
		if !lookup(ov.Calendar) {
			out = append(out, Problem{Line: ov.Line, Field: "overrides.calendar",
				Msg: fmt.Sprintf("unknown calendar %q", ov.Calendar)})
		}
	}
	return out
}

// ParseOverrides compiles an overrides file:
//
//	overrides:
//	  - {calendar: support, state: closed, reason: Storm closure, until: "2026-12-03T18:00:00-05:00"}
//
// state is open or closed; until (RFC 3339) is required; from defaults to
// now, the load time; until - from may be at most MaxOverride. An override
// that has ended by now is dropped and counted (see Ended). It reports
// every problem, each with its line; on any problem the *Overrides is nil.
func ParseOverrides(file string, src []byte, now time.Time) (*Overrides, []Problem) {
	c := &compiler{}
	o := &Overrides{file: file, byCal: map[string][]Override{}, loaded: now}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		c.errorf(0, "", "not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil, c.problems
	}
	if len(doc.Content) == 0 {
		return o, nil // an empty file: no overrides
	}
	_, top := c.fields(doc.Content[0], "", []string{"overrides"})
	list, ok := top["overrides"]
	if top == nil {
		return nil, c.problems
	}
	if ok && list.Kind != yaml.SequenceNode && list.Tag != "!!null" {
		c.errorf(list.Line, "overrides", "must be a list of overrides")
	}
	if ok && list.Kind == yaml.SequenceNode {
		for i, n := range list.Content {
			if ov, ok := c.override(n, fmt.Sprintf("overrides[%d]", i), now); ok {
				if ov.until <= now.Unix() {
					o.ended++
					continue
				}
				o.all = append(o.all, ov)
				o.byCal[ov.Calendar] = append(o.byCal[ov.Calendar], ov)
			}
		}
	}
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	return o, nil
}

// override compiles one entry.
func (c *compiler) override(n *yaml.Node, field string, now time.Time) (Override, bool) {
	before := len(c.problems)
	_, f := c.fields(n, field, []string{"calendar", "state", "reason", "from", "until"})
	ov := Override{Line: deref(n).Line, From: now}
	if f == nil {
		return ov, false
	}
	if cn, ok := f["calendar"]; !ok {
		c.errorf(ov.Line, field+".calendar", "missing: which calendar the override sets")
	} else if s, ok := c.scalar(cn, field+".calendar"); ok {
		ov.Calendar = s
	}
	switch sn, ok := f["state"]; {
	case !ok:
		c.errorf(ov.Line, field+".state", "missing: open or closed")
	case sn.Value == StateOpen || sn.Value == StateClosed:
		ov.Open = sn.Value == StateOpen
	default:
		c.errorf(sn.Line, field+".state", "%q is not open or closed", sn.Value)
	}
	if rn, ok := f["reason"]; ok {
		ov.Reason, _ = c.scalar(rn, field+".reason")
	}
	if fn, ok := f["from"]; ok {
		ov.From = c.instant(fn, field+".from")
	}
	if un, ok := f["until"]; !ok {
		c.errorf(ov.Line, field+".until", "missing: every override must end, at most %s after it starts", "7 days")
	} else {
		ov.Until = c.instant(un, field+".until")
	}
	if len(c.problems) > before {
		return ov, false
	}
	ov.from, ov.until = ov.From.Unix(), ov.Until.Unix()
	switch d := ov.Until.Sub(ov.From); {
	case !ov.Until.After(now):
		// Ended: the caller drops and counts it, whatever its from says.
	case d <= 0:
		c.errorf(ov.Line, field+".until", "until must be after from (%s)", ov.From.Format(time.RFC3339))
	case d > MaxOverride:
		c.errorf(ov.Line, field+".until", "the override lasts %s; at most 7 days is allowed", d)
	}
	return ov, len(c.problems) == before
}

func (c *compiler) instant(n *yaml.Node, field string) time.Time {
	s, ok := c.scalar(n, field)
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		c.errorf(n.Line, field, "%q is not an RFC 3339 time such as 2026-12-03T18:00:00-05:00", s)
	}
	return t
}
