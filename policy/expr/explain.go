package expr

import (
	"strconv"
	"strings"
)

// Why explains, for explain output, why the expression is false for env: it
// names every false comparison that made it false (for OR, all branches; for
// AND, the first false operand), with the values its references had. It
// returns "" when the expression is true.
func (e *Expr) Why(env *Env) string {
	if e.root.eval(env) {
		return ""
	}
	var parts []string
	e.root.why(env, &parts)
	return strings.Join(parts, "; ")
}

// why appends the explanation of a false node to parts.
func (n *node) why(env *Env, parts *[]string) {
	switch n.op {
	case opAnd:
		for _, k := range n.kids {
			if !k.eval(env) {
				k.why(env, parts)
				return
			}
		}
	case opOr:
		for _, k := range n.kids {
			k.why(env, parts)
		}
	default:
		*parts = append(*parts, n.whyLeaf(env))
	}
}

// whyLeaf explains one false comparison. It writes into one buffer, on
// the stack for a short explanation: a decision log explains every rule
// that did not match, for every decision.
func (n *node) whyLeaf(env *Env) string {
	if n.r.ref.isSet() {
		return n.whyMember(env)
	}
	type read struct {
		ref    *Ref
		v      any
		reason string
	}
	var reads [2]read
	k, nulls := 0, false
	for _, o := range [...]*operand{&n.l, &n.r} {
		if o.ref == nil {
			continue
		}
		v, reason := o.ref.lookup(env)
		reads[k] = read{o.ref, v, reason}
		k++
		nulls = nulls || v == nil
	}
	var arr [160]byte
	b := append(arr[:0], n.text...)
	if nulls {
		b = append(b, " is false: "...)
		sep := ""
		for _, rd := range reads[:k] {
			if rd.v == nil {
				b = append(append(append(append(append(b, sep...), rd.ref.text...), " is NULL ("...), rd.reason...), ')')
				sep = ", "
			}
		}
		return string(b)
	}
	hint := n.hint(env)
	if k == 0 && hint == "" {
		return n.text + " is false"
	}
	b = append(b, " is false ("...)
	sep := ""
	for _, rd := range reads[:k] {
		b = append(append(append(b, sep...), rd.ref.text...), " is "...)
		b = rd.ref.appendShown(b, rd.v)
		sep = "; "
	}
	if hint != "" {
		b = append(append(b, sep...), hint...)
	}
	return string(append(b, ')'))
}

// hint says why a comparison of non-NULL values is false when the reason is
// the operand types rather than the values.
func (n *node) hint(env *Env) string {
	l, r := n.l.eval(env), n.r.eval(env)
	op := n.op.String()
	switch n.op {
	case opEq, opNe, opGt, opGe, opLt, opLe, opContains:
		if !l.scalar() || !r.scalar() {
			return op + " does not compare arrays or objects"
		}
		switch n.op {
		case opEq:
			if l.k != r.k {
				return l.k.String() + " never equals " + r.k.String()
			}
		case opContains:
			if l.k != jStr || r.k != jStr {
				return "CONTAINS needs two strings"
			}
		case opGt, opGe, opLt, opLe:
			if l.k != r.k || l.k == jBool {
				return op + " compares two numbers or two strings"
			}
		}
	case opHas:
		if l.k != jArr || !r.scalar() {
			return "HAS needs an array on the left and a scalar on the right"
		}
	case opIn, opNotIn:
		if !l.scalar() || r.k != jArr {
			return op + " needs a scalar on the left and an array on the right"
		}
	}
	return ""
}

// describe shows a value in explanations: JSON, truncated to describeMax
// bytes so that an explanation stays one readable line. Only what is shown
// is encoded (see describeJSON), so describing a large attribute costs no
// more than describing a small one.
func describe(x any) string {
	if s, isString := x.(string); isString {
		// Go quoting, as conditions write strings.
		if len(s) <= describeMax {
			return strconv.Quote(s)
		}
		return strconv.Quote(prefix(s, describeMax)) + "…"
	}
	b := describeJSON(nil, x)
	if len(b) > describeMax {
		return string(b[:describeMax]) + "…"
	}
	return string(b)
}
