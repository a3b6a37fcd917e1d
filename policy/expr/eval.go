package expr

// Eval reports whether the expression holds for env. It does not allocate
// (the cost of CONTAINS, HAS and IN is linear in their operands).
func (e *Expr) Eval(env *Env) bool { return e.root.eval(env) }

// eval returns the operand's value: a constant as compiled, or what its
// reference resolves to in env.
func (o *operand) eval(env *Env) value {
	if o.ref != nil {
		return o.ref.eval(env)
	}
	return o.c
}

// eval evaluates a node. AND and OR stop at the first operand that
// decides them, which is also the order Why explains them in.
func (n *node) eval(env *Env) bool {
	switch n.op {
	case opAnd:
		for _, k := range n.kids {
			if !k.eval(env) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if k.eval(env) {
				return true
			}
		}
		return false
	}
	if n.r.ref.isSet() {
		return n.r.ref.tab.contains(n.op, n.l.eval(env))
	}
	return compare(n.op, n.l.eval(env), n.r.eval(env))
}
