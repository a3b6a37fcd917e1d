package expr

import (
	"fmt"
	"strconv"
	"strings"
)

type refRoot uint8

const (
	refTask refRoot = iota
	refWorker
	refCallback
	refNow
	refTaskRouter
	refCalendar
	refExperiment
)

// The names of the roots a reference may start with, as policies spell
// them and as Ref.Root returns them.
const (
	RootTask       = "task"
	RootWorker     = "worker"
	RootCallback   = "callback"
	RootNow        = "now"
	RootTaskRouter = "taskrouter"
	RootCalendar   = "calendar"
	RootExperiment = "experiment"
	RootTables     = "tables"
)

// rootNames spells each refRoot; refRoots is its inverse.
var rootNames = [...]string{
	refTask: RootTask, refWorker: RootWorker, refCallback: RootCallback,
	refNow: RootNow, refTaskRouter: RootTaskRouter, refCalendar: RootCalendar,
	refExperiment: RootExperiment,
}

// clockField selects one of the clock values: now.* in the policy's time
// zone, or taskrouter.* in UTC.
type clockField uint8

const (
	clockHour clockField = iota + 1
	clockMinute
	clockWeekday
	clockUTCTime
	clockUTCHour
	clockUTCMinute
	clockUTCWeekday
)

// refRoots, nowFields and taskRouterFields name the roots a reference may
// start with and the fields of now and taskrouter. The taskrouter keys are
// exactly those of Twilio's time-of-day-routing page. They are read-only.
var (
	refRoots = func() map[string]refRoot {
		m := make(map[string]refRoot, len(rootNames))
		for r, name := range rootNames {
			m[name] = refRoot(r)
		}
		return m
	}()
	nowFields        = map[string]clockField{"hour": clockHour, "minute": clockMinute, "weekday": clockWeekday}
	taskRouterFields = map[string]clockField{
		"currentTime": clockUTCTime, "currentHour": clockUTCHour,
		"currentMin": clockUTCMinute, "dayOfWeek": clockUTCWeekday,
	}
)

type refStep struct {
	key   string
	index int // the array index, or -1 for a key
}

// Ref is a parsed reference path: a root (task, worker, callback, now or
// taskrouter) followed by keys and array indices, such as
// task.object.array[2]. A path whose first key is not a root reads the
// task's attributes, as bare keys do in Workflow expressions. It is
// immutable after parsing and safe for concurrent use.
type Ref struct {
	root  refRoot
	clock clockField
	steps []refStep
	text  string
	// pos is the byte offset of the reference in its source.
	pos int
	// bare is set when the reference was written without a root, so that
	// a misspelt root (tsk.language) can be warned about.
	bare bool
	// cal, calField and calPos (the name's byte offset) are set for
	// calendar.NAME.KEY; see calendar.go.
	cal      string
	calField calendarField
	calPos   int
	// tab is set for a reference into a table, tables.NAME...
	tab *tableRef
}

// String returns the reference in canonical form, e.g. task.a[0].b; a bare
// key is written with its task. root.
func (r *Ref) String() string { return r.text }

// ParseRef parses a reference such as "worker.contact_uri" or "now.hour".
func ParseRef(src string) (*Ref, error) { return parseRefIn(src, nil) }

// parseRefIn is ParseRef in a scope.
func parseRefIn(src string, sc *Scope) (*Ref, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks, scope: sc}
	t := p.peek()
	if t.kind != tokIdent {
		return nil, p.errAt(t.pos, "expected a reference such as task.key, found %s", t.describe())
	}
	ref, err := p.parseRef()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errAt(t.pos, "unexpected %s after %q", t.describe(), ref.text)
	}
	return ref, nil
}

// rootMap returns the document the reference starts in.
func (r *Ref) rootMap(env *Env) map[string]any {
	switch r.root {
	case refTask:
		return env.Task
	case refWorker:
		return env.Worker
	case refCallback:
		return env.Callback
	}
	return nil
}

// eval resolves the reference without allocating.
func (r *Ref) eval(env *Env) value {
	if env == nil {
		return value{}
	}
	if r.clock != 0 {
		return env.clock(r.clock)
	}
	if r.root == refCalendar {
		return env.calendar(r)
	}
	if r.tab != nil {
		return r.tab.eval(env)
	}
	if r.root == refExperiment {
		return env.experimentArm(r.steps[0].key)
	}
	cur, ok := r.rootMap(env)[r.steps[0].key]
	if !ok {
		return value{}
	}
	for _, s := range r.steps[1:] {
		if s.index < 0 {
			m, isMap := cur.(map[string]any)
			if !isMap {
				return value{}
			}
			if cur, ok = m[s.key]; !ok {
				return value{}
			}
		} else {
			a, isArr := cur.([]any)
			if !isArr || s.index >= len(a) {
				return value{}
			}
			cur = a[s.index]
		}
	}
	return valueOf(cur)
}

// lookup resolves the reference to its JSON value. When the value is NULL it
// returns nil and, for explanations, why: "missing", "null",
// "task.a is not an array" and so on.
func (r *Ref) lookup(env *Env) (any, string) {
	if env == nil {
		return nil, "no environment"
	}
	if r.tab != nil {
		return r.tab.lookup(env)
	}
	if r.clock != 0 {
		v := env.clock(r.clock)
		if v.k == jStr {
			return v.s, ""
		}
		return v.n, ""
	}
	if r.root == refCalendar {
		return env.calendarLookup(r)
	}
	if r.root == refExperiment {
		if v := env.experimentArm(r.steps[0].key); v.k == jStr {
			return v.s, ""
		}
		return nil, "no such experiment"
	}
	prefix := r.text[:strings.IndexByte(r.text, '.')]
	var cur any = r.rootMap(env)
	for i, s := range r.steps {
		where := ""
		if i < len(r.steps)-1 {
			where = " at " + prefix
		}
		if s.index < 0 {
			m, ok := cur.(map[string]any)
			if !ok && i > 0 {
				return nil, fmt.Sprintf("%s is %s, not an object", prefix, valueOf(cur).k)
			}
			v, ok := m[s.key]
			if !ok {
				if i < len(r.steps)-1 {
					return nil, fmt.Sprintf("%s.%s is missing", prefix, s.key)
				}
				return nil, "missing"
			}
			cur = v
			prefix += "." + s.key
		} else {
			a, ok := cur.([]any)
			if !ok {
				return nil, fmt.Sprintf("%s is %s, not an array", prefix, valueOf(cur).k)
			}
			if s.index >= len(a) {
				return nil, fmt.Sprintf("index %d is out of range%s: the array has %d elements", s.index, where, len(a))
			}
			cur = a[s.index]
			prefix += "[" + strconv.Itoa(s.index) + "]"
		}
	}
	if cur == nil {
		return nil, "null"
	}
	if valueOf(cur).k == jNull {
		return nil, fmt.Sprintf("unsupported type %T", cur)
	}
	return cur, ""
}

// parseRef parses a reference starting at the current identifier token.
// Keys and indices must follow without spaces, as in task.a[0].b, so that a
// reference reads as one word.
func (p *parser) parseRef() (*Ref, error) {
	rootTok := p.next()
	if d := p.peek(); rootTok.text == RootTables && d.kind == tokDot && d.pos == rootTok.end {
		return p.parseTableRef(rootTok)
	}
	ref := &Ref{pos: rootTok.pos}
	var sb strings.Builder
	root, ok := refRoots[rootTok.text]
	if ok {
		ref.root = root
		sb.WriteString(rootTok.text)
	} else {
		// A bare key reads the task's attributes, as in a Workflow's
		// filter expression (customer_value == 'Gold'), or the worker's in
		// a target expression (skills HAS 'support').
		ref.root, ref.bare = p.bareRoot, true
		ref.steps = append(ref.steps, refStep{key: rootTok.text, index: -1})
		sb.WriteString(rootNames[p.bareRoot] + "." + rootTok.text)
	}
	end := rootTok.end
	for {
		t := p.peek()
		if t.pos != end || (t.kind != tokDot && t.kind != tokLBrack) {
			break
		}
		if t.kind == tokLBrack && len(ref.steps) == 0 {
			return nil, p.errAt(t.pos, "expected \".\" and a key after %q", rootTok.text)
		}
		p.next()
		if t.kind == tokDot {
			k := p.peek()
			if k.kind != tokIdent || k.pos != t.end {
				return nil, p.errAt(t.end, `expected a key after "."`)
			}
			p.next()
			ref.steps = append(ref.steps, refStep{key: k.text, index: -1})
			sb.WriteString("." + k.text)
			end = k.end
			continue
		}
		n := p.next()
		idx := -1
		if n.kind == tokNumber && strings.Trim(n.text, "0123456789") == "" {
			if v, err := strconv.Atoi(n.text); err == nil && v <= 1<<30 {
				idx = v
			}
		}
		if idx < 0 {
			return nil, p.errAt(n.pos, `expected an array index (a non-negative integer) after "[", found %s`, n.describe())
		}
		c := p.next()
		if c.kind != tokRBrack {
			return nil, p.errAt(c.pos, `expected "]" after the index, found %s`, c.describe())
		}
		ref.steps = append(ref.steps, refStep{index: idx})
		sb.WriteString("[" + strconv.Itoa(idx) + "]")
		end = c.end
	}
	if len(ref.steps) == 0 {
		return nil, p.errAt(rootTok.end, "expected \".\" and a key after %q", rootTok.text)
	}
	if err := p.checkRootFields(ref, rootTok, sb.String()); err != nil {
		return nil, err
	}
	ref.text = sb.String()
	ref.workerField()
	return ref, nil
}

// checkRootFields resolves the fields of the roots that have a fixed
// set of them (now, taskrouter, calendar), refusing any other.
func (p *parser) checkRootFields(ref *Ref, rootTok *token, text string) error {
	switch ref.root {
	case refNow:
		if len(ref.steps) == 1 {
			ref.clock = nowFields[ref.steps[0].key]
		}
		if ref.clock == 0 {
			return p.errAt(rootTok.pos, "unknown %s; now has only now.hour, now.minute and now.weekday", text)
		}
	case refTaskRouter:
		if len(ref.steps) == 1 {
			ref.clock = taskRouterFields[ref.steps[0].key]
		}
		if ref.clock == 0 {
			return p.errAt(rootTok.pos, "unknown %s; taskrouter has only taskrouter.currentTime, taskrouter.currentHour, taskrouter.currentMin and taskrouter.dayOfWeek", text)
		}
	case refCalendar:
		if err := p.calendarRef(ref, rootTok, text); err != nil {
			return err
		}
	case refExperiment:
		if len(ref.steps) != 1 || ref.steps[0].index >= 0 {
			return p.errAt(rootTok.pos, "%s is not an experiment; write experiment.NAME", text)
		}
	}
	return nil
}

// rootLookalike returns the root that a bare reference's first key looks
// like a misspelling of (Task, tsk, tasks), or "".
func (r *Ref) rootLookalike() string {
	if !r.bare || len(r.steps) < 2 {
		return ""
	}
	k := r.steps[0].key
	for name := range refRoots {
		if strings.EqualFold(k, name) || (len(k) >= 3 && oneEditApart(k, name)) {
			return name
		}
	}
	return ""
}

// oneEditApart reports whether a and b differ by exactly one inserted,
// deleted or replaced byte.
func oneEditApart(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > 1 || a == b {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if len(a) == len(b) {
		return a[i+1:] == b[i+1:]
	}
	return a[i:] == b[i+1:]
}
