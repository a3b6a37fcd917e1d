package expr

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/assignd/assignd/policy/experiment"
)

// FallbackKey is the reference whose value buckets a callback when an
// experiment's key template cannot render: one caller without the key
// still gets the same arm for every reservation of its task.
const FallbackKey = "callback.TaskSid"

// Experiments are the experiments that experiment.NAME reads: each with
// its split and the template of its key. It is immutable and safe for
// concurrent use.
type Experiments struct {
	set  *experiment.Set
	keys []*Template
}

// NewExperiments pairs the splits with their key templates, in the same
// order; there may be at most experiment.Max of them.
func NewExperiments(splits []*experiment.Split, keys []*Template) (*Experiments, error) {
	if len(splits) != len(keys) {
		return nil, fmt.Errorf("expr.NewExperiments: %d splits but %d keys", len(splits), len(keys))
	}
	if len(splits) > experiment.Max {
		return nil, fmt.Errorf("at most %d experiments, not %d", experiment.Max, len(splits))
	}
	return &Experiments{set: experiment.NewSet(splits), keys: keys}, nil
}

// Set returns the splits.
func (x *Experiments) Set() *experiment.Set {
	if x == nil {
		return nil
	}
	return x.set
}

// Key returns experiment i's key template.
func (x *Experiments) Key(i int) *Template { return x.keys[i] }

// experimentArm returns the arm of the named experiment for env as a
// string value, recording it in env.Arms; an experiment that is not
// defined is NULL. The key is hashed as it renders, so nothing allocates.
func (env *Env) experimentArm(name string) value {
	x := env.Experiments
	i := x.Set().Index(name)
	if i < 0 {
		return value{}
	}
	split := x.set.Split(i)
	arm, ok := env.Arms.Seen(i)
	if !ok {
		h := split.Hasher()
		fallback := !x.keys[i].hashInto(env, &h)
		if fallback {
			h = split.Hasher()
			tsid, _ := env.Callback["TaskSid"].(string)
			h.WriteString(tsid)
		}
		arm = split.ArmAt(h.Point())
		env.Arms.Record(x.set, i, arm, fallback)
	}
	return value{k: jStr, s: split.Arms()[arm].Name}
}

// hashInto feeds the template's rendering into h, exactly the bytes Render
// would return for a string, number or boolean key, and reports false when
// it cannot render (a reference absent, null, an object or an array, or a
// rendering that is empty), in which case h holds garbage.
func (t *Template) hashInto(env *Env, h *experiment.Hash) bool {
	n := 0
	for _, p := range t.parts {
		if p.ref == nil {
			h.WriteString(p.lit)
			n += len(p.lit)
			continue
		}
		m, ok := p.ref.hashValue(env, h)
		if !ok {
			return false
		}
		n += m
	}
	return n > 0
}

// hashValue feeds the reference's value, as text, into h and returns its
// length; false when it is not a string, number or boolean.
func (r *Ref) hashValue(env *Env, h *experiment.Hash) (int, bool) {
	if r.root == refExperiment || r.clock != 0 {
		// Parse refuses both in keys; a key must not move with time or
		// with another experiment.
		return 0, false
	}
	raw, why := r.lookupRaw(env)
	if why {
		return 0, false
	}
	switch v := raw.(type) {
	case string:
		h.WriteString(v)
		return len(v), true
	case json.Number:
		h.WriteString(string(v))
		return len(v), true
	case bool:
		s := strconv.FormatBool(v)
		h.WriteString(s)
		return len(s), true
	}
	x := valueOf(raw)
	if x.k != jNum {
		return 0, false
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], x.n, 'f', -1, 64)
	h.Write(b)
	return len(b), true
}

// lookupRaw is eval's walk that returns the raw JSON value, and true when
// it is absent.
func (r *Ref) lookupRaw(env *Env) (any, bool) {
	cur, ok := r.rootMap(env)[r.steps[0].key]
	if !ok {
		return nil, true
	}
	for _, s := range r.steps[1:] {
		if s.index < 0 {
			m, isMap := cur.(map[string]any)
			if !isMap {
				return nil, true
			}
			if cur, ok = m[s.key]; !ok {
				return nil, true
			}
		} else {
			a, isArr := cur.([]any)
			if !isArr || s.index >= len(a) {
				return nil, true
			}
			cur = a[s.index]
		}
	}
	return cur, cur == nil
}

// ExperimentKey renders experiment i's key for env as Decide hashed it,
// with its point: the rendered template, or the fallback key's value and
// true when the template cannot render. It allocates; it is for
// explanations.
func (x *Experiments) ExperimentKey(i int, env *Env) (key string, point int, fallback bool) {
	split := x.set.Split(i)
	h := split.Hasher()
	if x.keys[i].hashInto(env, &h) {
		if v, err := x.keys[i].Render(env); err == nil {
			if s, isString := v.(string); isString {
				return s, h.Point(), false
			}
			return fmt.Sprint(v), h.Point(), false
		}
	}
	tsid, _ := env.Callback["TaskSid"].(string)
	return tsid, split.Point(tsid), true
}

// ErrorAt returns a *SyntaxError pointing at ref in e's source, for
// problems only the caller can see, such as an experiment.NAME that the
// policy does not define.
func (e *Expr) ErrorAt(ref *Ref, format string, args ...any) *SyntaxError {
	return newSyntaxError(e.src, ref.pos, format, args...)
}

// Experiment returns the experiment's name for a reference
// experiment.NAME, and "" for any other reference.
func (r *Ref) Experiment() string {
	if r.root != refExperiment {
		return ""
	}
	return r.steps[0].key
}

// ComparedArms calls f for each string constant the expression compares
// an experiment.NAME with (==, !=, IN and NOT IN), so that a caller can
// refuse an arm the experiment does not have: "treatmnt" would otherwise
// quietly never match.
func (e *Expr) ComparedArms(f func(ref *Ref, arm string)) {
	e.root.comparedArms(f)
}

func (n *node) comparedArms(f func(ref *Ref, arm string)) {
	for _, k := range n.kids {
		k.comparedArms(f)
	}
	ref, c := n.l.ref, &n.r
	if ref == nil {
		ref, c = n.r.ref, &n.l
	}
	if ref == nil || ref.root != refExperiment || c.ref != nil {
		return
	}
	switch n.op {
	case opEq, opNe:
		if s, ok := c.raw.(string); ok {
			f(ref, s)
		}
	case opIn, opNotIn:
		if list, ok := c.raw.([]any); ok {
			for _, x := range list {
				if s, ok := x.(string); ok {
					f(ref, s)
				}
			}
		}
	}
}
