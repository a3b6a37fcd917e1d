package policy

import (
	"strconv"
	"strings"

	"github.com/assignd/assignd/internal/jsonout"
	"github.com/assignd/assignd/policy/expr"
)

// env builds the expression environment on the stack: now.* are read once,
// in the policy's time zone, and taskrouter.* in UTC.
func (p *Policy) env(in *Input) expr.Env {
	env := expr.Env{Task: in.Task, Worker: in.Worker, Callback: in.Callback, Experiments: p.experiments}
	env.SetClock(in.Now, p.loc)
	env.Calendars, env.Overrides = p.calendars, in.Overrides
	return env
}

// Decide picks the instruction for one callback: the first rule whose
// condition matches and whose parameters render wins, as in a TaskRouter
// Workflow. It is pure and safe for concurrent use, and it always decides,
// because Parse requires a last catch-all rule with no templates.
//
// A decision for a rule without templates shares its Instruction and JSON
// with every other decision for that rule; callers must not modify them.
func (p *Policy) Decide(in *Input) Decision {
	return p.decide(in, nil)
}

// Step is one rule's part in an explained decision.
type Step struct {
	Rule  string `json:"rule"`
	Index int    `json:"index"` // 1-based, as in validate's messages
	// Result is "matched", "not matched", "skipped" or "not tried".
	Result string `json:"outcome"`
	// Why says which sub-expression was false or NULL, or which parameter
	// failed to render or check.
	Why string `json:"why,omitempty"`
	// Lookups are the table lookups the rule's condition and templates
	// made, in order; a hashed table's values are never shown.
	Lookups []expr.Lookup `json:"lookups,omitempty"`
}

// Explanation is a decision with the steps that led to it.
type Explanation struct {
	Decision Decision
	Steps    []Step
	// Calendars are the states of the calendars the rules up to the
	// deciding one read, at the explained instant.
	Calendars []CalendarStatus
	// Experiments are the experiments the decision evaluated, with arms.
	Experiments []ExperimentArm
}

// Explain decides exactly as Decide does and records why each rule was
// or was not used; it is for explain and the admin API, not the hot path.
func (p *Policy) Explain(in *Input) Explanation {
	steps := make([]Step, 0, len(p.rules))
	d := p.decide(in, &steps)
	for i := d.RuleIndex + 1; i < len(p.rules); i++ {
		steps = append(steps, Step{Rule: p.rules[i].name, Index: i + 1, Result: "not tried"})
	}
	return Explanation{Decision: d, Steps: steps, Calendars: p.calendarsRead(d.RuleIndex, in), Experiments: p.explainExperiments(in, &d)}
}

func (p *Policy) decide(in *Input, trace *[]Step) Decision {
	env := p.env(in)
	var skipped []Skip
	for i := range p.rules {
		r := &p.rules[i]
		if !r.matches(&env) {
			if trace != nil {
				*trace = append(*trace, Step{Rule: r.name, Index: i + 1, Result: "not matched", Why: r.why(&env), Lookups: r.lookups(&env)})
			}
			continue
		}
		d := Decision{Rule: r.name, RuleIndex: i, Mode: r.mode, Skipped: skipped, Experiments: env.Arms}
		if r.static != nil {
			d.Instruction, d.JSON = *r.static, r.staticJSON
		} else {
			ins, skip := r.render(&env)
			if skip != nil {
				skipped = append(skipped, *skip)
				if trace != nil {
					*trace = append(*trace, Step{Rule: r.name, Index: i + 1, Result: "skipped", Why: skip.Detail, Lookups: r.lookups(&env)})
				}
				continue
			}
			d.Instruction = ins
			if r.mode == Respond {
				d.JSON = callbackJSON(ins)
			}
		}
		if trace != nil {
			*trace = append(*trace, Step{Rule: r.name, Index: i + 1, Result: "matched", Lookups: r.lookups(&env)})
		}
		return d
	}
	// Parse guarantees a last rule with no condition and no templates.
	panic("policy: no rule decided; Parse admitted a policy without a catch-all")
}

// render fills in a rule's templates and checks the rendered values.
func (r *rule) render(env *expr.Env) (Instruction, *Skip) {
	params := make([]Param, 0, len(r.params))
	for _, rp := range r.params {
		v := rp.value
		if rp.tmpl != nil {
			raw, err := rp.tmpl.Render(env)
			if err != nil {
				return Instruction{}, &Skip{Rule: r.name, Index: r.index, Reason: "render", Detail: "params." + rp.spec.name + ": " + err.Error()}
			}
			if v, err = rp.spec.check(raw); err != nil {
				return Instruction{}, &Skip{Rule: r.name, Index: r.index, Reason: "invalid", Detail: "params." + rp.spec.name + ": rendered " + err.Error()}
			}
		}
		params = append(params, Param{Name: rp.spec.name, Value: v})
	}
	ins := Instruction{Name: r.instruction, Params: params}
	if r.instruction == Dequeue {
		if skip := r.sipTimeout(env, ins); skip != nil {
			return Instruction{}, skip
		}
	}
	return ins, nil
}

// staticInstruction precomputes a rule's instruction and reply when it has
// no templates.
func staticInstruction(r *rule) (*Instruction, []byte) {
	if r.instruction == "" || r.dialsContact {
		return nil, nil
	}
	for _, p := range r.params {
		if p.tmpl != nil {
			return nil, nil
		}
	}
	ins, _ := r.render(nil)
	var js []byte
	if r.mode == Respond {
		js = callbackJSON(ins)
	}
	return &ins, js
}

// callbackJSON encodes an instruction as the assignment-callback reply,
// with the keys Twilio documents for it, in the parameter table's order.
func callbackJSON(ins Instruction) []byte {
	spec := instructions[ins.Name]
	b := make([]byte, 0, 64+32*len(ins.Params))
	b = append(b, `{"instruction":`...)
	b = jsonout.AppendString(b, ins.Name)
	for _, p := range ins.Params {
		ps := spec.lookup(p.Name)
		if ps == nil || ps.callbackKey == "" {
			continue
		}
		b = append(b, ',')
		b = jsonout.AppendString(b, ps.callbackKey)
		b = append(b, ':')
		switch v := p.Value.(type) {
		case string:
			b = jsonout.AppendString(b, v)
		case bool:
			b = strconv.AppendBool(b, v)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case []string:
			// The callback reply takes event lists as one comma-separated string.
			b = jsonout.AppendString(b, strings.Join(v, ","))
		}
	}
	return append(b, '}')
}

// isAlwaysTrue reports whether a condition holds for every callback. A
// reference that is absent is NULL and makes its comparison false, and AND
// and OR are monotone, so a condition true with every reference absent is
// true whatever the attributes hold. now.* is never absent, so conditions
// on the clock are left out.
func isAlwaysTrue(e *expr.Expr) bool {
	return !strings.Contains(e.Canonical(), "now.") && !strings.Contains(e.Canonical(), "calendar.") && e.Eval(&expr.Env{})
}
