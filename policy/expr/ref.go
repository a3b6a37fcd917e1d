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
)

// refNowField selects one of the now.* values.
type refNowField uint8

const (
	refNowHour refNowField = iota + 1
	refNowMinute
	refNowWeekday
)

// refRoots and nowFields name the roots a reference may start with and
// the fields of now. They are read-only.
var (
	refRoots  = map[string]refRoot{"task": refTask, "worker": refWorker, "callback": refCallback, "now": refNow}
	nowFields = map[string]refNowField{"hour": refNowHour, "minute": refNowMinute, "weekday": refNowWeekday}
)

type refStep struct {
	key   string
	index int // the array index, or -1 for a key
}

// Ref is a parsed reference path: a root (task, worker, callback or now)
// followed by keys and array indices, such as task.object.array[2]. It is
// immutable after parsing and safe for concurrent use.
type Ref struct {
	root  refRoot
	now   refNowField
	steps []refStep
	text  string
}

// String returns the reference in canonical form, e.g. task.a[0].b.
func (r *Ref) String() string { return r.text }

// ParseRef parses a reference such as "worker.contact_uri" or "now.hour".
func ParseRef(src string) (*Ref, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
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
	if r.root == refNow {
		switch r.now {
		case refNowHour:
			return value{k: jNum, n: float64(env.Hour)}
		case refNowMinute:
			return value{k: jNum, n: float64(env.Minute)}
		default:
			return value{k: jStr, s: env.Weekday}
		}
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
	if r.root == refNow {
		switch r.now {
		case refNowHour:
			return float64(env.Hour), ""
		case refNowMinute:
			return float64(env.Minute), ""
		default:
			return env.Weekday, ""
		}
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
	root, ok := refRoots[rootTok.text]
	if !ok {
		return nil, p.errAt(rootTok.pos, "unknown root %q; use task., worker., callback. or now.", rootTok.text)
	}
	ref := &Ref{root: root}
	var sb strings.Builder
	sb.WriteString(rootTok.text)
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
	if ref.root == refNow {
		if len(ref.steps) == 1 {
			ref.now = nowFields[ref.steps[0].key]
		}
		if ref.now == 0 {
			return nil, p.errAt(rootTok.pos, "unknown %s; now has only now.hour, now.minute and now.weekday", sb.String())
		}
	}
	ref.text = sb.String()
	return ref, nil
}
