package policy

import (
	"go.yaml.in/yaml/v3"

	"github.com/assignd/assignd/policy/expr"
)

// conditions compiles a rule's when (a Workflow filter: bare keys read the
// task) and worker_when (a TaskQueue or Workflow target: bare keys read the
// worker), and checks them against the rules before it. A rule with
// neither is the catch-all, which must be the last.
func (ps *parser) conditions(p *Policy, r *rule, n *yaml.Node, fields map[string]*yaml.Node, seen map[string]int, alwaysTrue *int, last bool) {
	wn, hasWhen := fields["when"]
	tn, hasTarget := fields["worker_when"]
	if !hasWhen && !hasTarget {
		r.catchAll = true
		if !last {
			ps.errorf(n.Line, r, "when", "missing, as is worker_when, which makes this the catch-all, but the catch-all must be the last rule: rules after it are never tried")
		}
		return
	}
	line, field := 0, ""
	if hasTarget {
		r.workerWhen = ps.condition(p, r, tn, "worker_when", ps.scope.CompileTarget)
		line, field = tn.Line, "worker_when"
	}
	if hasWhen {
		r.when = ps.condition(p, r, wn, "when", ps.scope.Compile)
		line, field = wn.Line, "when"
	}
	if (hasWhen && r.when == nil) || (hasTarget && r.workerWhen == nil) {
		return
	}
	if *alwaysTrue >= 0 {
		ps.warnf(line, r, field, "never tried: rule %q (#%d) always matches", p.rules[*alwaysTrue].name, *alwaysTrue+1)
	}
	canon := r.canonical()
	if prev, ok := seen[canon]; ok {
		ps.warnf(line, r, field, "never matches: rule %q (#%d) has the same condition", p.rules[prev].name, prev+1)
	} else {
		seen[canon] = r.index
	}
	if *alwaysTrue < 0 && (r.when == nil || isAlwaysTrue(r.when)) && (r.workerWhen == nil || isAlwaysTrue(r.workerWhen)) {
		*alwaysTrue = r.index
	}
}

// condition compiles one condition field, reporting its problems and
// warnings against the field; nil if it does not compile or reads a
// calendar the policy does not define.
func (ps *parser) condition(p *Policy, r *rule, n *yaml.Node, field string, compile func(string) (*expr.Expr, error)) *expr.Expr {
	e, err := compile(n.Value)
	if err == nil {
		err = e.CheckCalendars(p.calendars)
	}
	if err != nil {
		pr := ps.errorf(n.Line, r, field, "%v", err)
		if se, isSyntax := err.(*expr.SyntaxError); isSyntax {
			pr.Detail = se.Caret()
		}
		return nil
	}
	for _, w := range e.Warnings() {
		ps.warnf(n.Line, r, field, "%s", w)
	}
	ps.checkExperimentRefs(r, n.Line, field, e, p.experiments)
	return e
}

// canonical is the rule's whole condition in canonical form, every root
// spelt out, so that two rules with the same canonical condition match
// the same callbacks whichever field each wrote it in; "" for the
// catch-all.
func (r *rule) canonical() string {
	switch {
	case r.when != nil && r.workerWhen != nil:
		return "(" + r.when.Canonical() + ") AND (" + r.workerWhen.Canonical() + ")"
	case r.when != nil:
		return r.when.Canonical()
	case r.workerWhen != nil:
		return r.workerWhen.Canonical()
	}
	return ""
}

// matches reports whether every condition the rule has holds for env.
func (r *rule) matches(env *expr.Env) bool {
	return (r.when == nil || r.when.Eval(env)) && (r.workerWhen == nil || r.workerWhen.Eval(env))
}

// why says which of the rule's conditions is false for env, and why.
func (r *rule) why(env *expr.Env) string {
	if r.when != nil && !r.when.Eval(env) {
		return r.when.Why(env)
	}
	if r.workerWhen != nil {
		return "worker_when: " + r.workerWhen.Why(env)
	}
	return ""
}
