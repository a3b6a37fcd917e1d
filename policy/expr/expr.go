// Package expr implements TaskRouter's expression language: the SQL-like
// conditions of Workflow filters and TaskQueue target_workers, with
// references rooted at task., worker., callback., now., taskrouter. or
// experiment. (a
// bare key reads the task's attributes, as in a Workflow), and the {{ ref }}
// templates of policy parameters. It is split the way Alertmanager splits
// its matcher language: lex.go, parse.go and ref.go turn text into a tree,
// value.go and eval.go evaluate it without allocating, explain.go says why
// it was false, and template.go fills in parameter values.
//
// Grammar (keywords and true/false are case-insensitive):
//
//	expr       = and { ("OR" | "||") and }
//	and        = primary { ("AND" | "&&") primary }
//	primary    = "(" expr ")" | comparison
//	comparison = operand op operand
//	op         = "==" | "=" | "!=" | ">" | ">=" | "<" | "<=" |
//	             "CONTAINS" | "HAS" | "IN" | "NOT" "IN"
//	operand    = string | number | "true" | "false" | list | ref
//	list       = "[" [ constant { "," constant } ] "]"
//	ref        = ( root "." key | key ) { "." key | "[" index "]" }
//	             | "tables" "." name [ "[" operand "]" [ "." column ] ]
//
// A tables reference reads a table of the Scope the expression is
// compiled in (see tables.go); the whole table, tables.NAME, may stand only
// on the right of IN and NOT IN.
//
// AND binds tighter than OR, as in SQL; TaskRouter does not document its
// precedence, so mixing the two without parentheses compiles but produces a
// warning that spells out the grouping. Strings are single- or double-quoted;
// inside them a backslash escapes a quote of either kind or a backslash, and
// any other escape is an error (TaskRouter documents no escapes, so we accept
// only the ones needed to write every string). Numbers are decimal, optionally
// negative, with an optional fraction: -1, 3.5; there are no exponents.
package expr

import (
	"strings"
	"time"

	"github.com/assignd/assignd/policy/calendar"
	"github.com/assignd/assignd/policy/experiment"
)

// Limits that keep hostile input (a fuzzer, a careless config) from
// exhausting the stack or memory. Nesting only grows through parentheses,
// because AND and OR chains are flat, so the depth limit bounds every
// recursion in the parser, evaluator and printers.
const (
	// maxLen is the longest expression accepted, in bytes. It applies to
	// both the source and its canonical form, so that a canonical form
	// always compiles again.
	maxLen = 4096
	// maxDepth is the deepest nesting of parentheses accepted.
	maxDepth = 64
)

// Env is what expressions and templates are evaluated against: the roots
// task, worker, callback, now and taskrouter.
type Env struct {
	Task, Worker, Callback map[string]any
	// Hour (0-23), Minute (0-59) and Weekday ("Mon".."Sun", Twilio's
	// spelling) are now.hour, now.minute and now.weekday, in the policy's
	// time zone.
	Hour, Minute int
	Weekday      string
	// UTCHour, UTCMinute and UTCWeekday are the same clock in UTC, which
	// Twilio's time-of-day roots read: taskrouter.currentHour,
	// taskrouter.currentMin and taskrouter.dayOfWeek, and
	// taskrouter.currentTime is UTCHour*100+UTCMinute.
	UTCHour, UTCMinute int
	UTCWeekday         string
	// Calendars and Overrides are what calendar.NAME.* read, at Instant
	// (SetClock sets it); a calendar not in Calendars reads as NULL.
	Calendars *calendar.Set
	Overrides *calendar.Overrides
	Instant   time.Time
	// Experiments defines experiment.NAME (nil: none is defined), and
	// Arms records the experiments an evaluation read and their arms.
	Experiments *Experiments
	Arms        experiment.Arms
}

// weekdays are Twilio's names of the days, indexed by time.Weekday.
var weekdays = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// SetClock fills the clock fields from t: now.* in loc and taskrouter.* in
// UTC, whatever loc is, as TaskRouter reads them.
func (env *Env) SetClock(t time.Time, loc *time.Location) {
	env.Instant = t
	l := t.In(loc)
	env.Hour, env.Minute, env.Weekday = l.Hour(), l.Minute(), weekdays[l.Weekday()]
	u := t.UTC()
	env.UTCHour, env.UTCMinute, env.UTCWeekday = u.Hour(), u.Minute(), weekdays[u.Weekday()]
}

// clock returns one of the clock fields as a value.
func (env *Env) clock(f clockField) value {
	switch f {
	case clockHour:
		return value{k: jNum, n: float64(env.Hour)}
	case clockMinute:
		return value{k: jNum, n: float64(env.Minute)}
	case clockWeekday:
		return value{k: jStr, s: env.Weekday}
	case clockUTCTime:
		return value{k: jNum, n: float64(env.UTCHour*100 + env.UTCMinute)}
	case clockUTCHour:
		return value{k: jNum, n: float64(env.UTCHour)}
	case clockUTCMinute:
		return value{k: jNum, n: float64(env.UTCMinute)}
	}
	return value{k: jStr, s: env.UTCWeekday}
}

// isWeekday reports whether s is one of Twilio's day names.
func isWeekday(s string) bool {
	for _, d := range weekdays {
		if s == d {
			return true
		}
	}
	return false
}

// Expr is a compiled TaskRouter expression. It is immutable and safe for
// concurrent use.
type Expr struct {
	src      string
	root     *node
	canon    string
	warnings []string
}

// Compile parses src as a Workflow filter expression, in which a bare key
// reads the task's attributes. The error, if any, is a *SyntaxError.
func Compile(src string) (*Expr, error) { return compile(src, refTask, nil) }

// compile parses src in a scope (nil: no tables), with bare keys reading
// bare's document.
func compile(src string, bare refRoot, sc *Scope) (*Expr, error) {
	if len(src) > maxLen {
		return nil, newSyntaxError(src, maxLen, "expression is longer than %d bytes", maxLen)
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks, bareRoot: bare, scope: sc}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		if t.kind == tokRParen {
			return nil, p.errAt(t.pos, `unmatched ")"`)
		}
		return nil, p.errAt(t.pos, "expected AND, OR or the end of the expression, found %s", t.describe())
	}
	e := &Expr{src: src, root: root}
	var sb strings.Builder
	root.write(&sb)
	e.canon = sb.String()
	// The canonical form spells operators out and adds spaces, so it can be
	// longer than the source; rejecting it here keeps Canonical compilable.
	if len(e.canon) > maxLen {
		return nil, newSyntaxError(src, 0, "expression is longer than %d bytes once normalized", maxLen)
	}
	root.warn(&e.warnings)
	return e, nil
}

// Source returns the text the expression was compiled from.
func (e *Expr) Source() string { return e.src }

// Canonical returns the expression in normalized form: keywords upper-case,
// = written ==, && written AND, || written OR, single spaces, strings
// double-quoted, numbers in shortest decimal form, and the parentheses that
// were written. Two expressions with the same Canonical are the same
// condition, and Canonical compiles to itself.
func (e *Expr) Canonical() string { return e.canon }

// Warnings returns what compiles but is probably not what was meant, such as
// AND and OR mixed without parentheses.
func (e *Expr) Warnings() []string { return append([]string(nil), e.warnings...) }
