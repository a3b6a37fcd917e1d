package policy

import (
	"fmt"
	"strings"
	"time"
)

// RuleView is one rule as people may read it, for the admin console:
// secret parameters are masked with RedactedValue.
type RuleView struct {
	// Index is the rule's 1-based position, as in validate's messages.
	Index int
	Name  string
	// Condition is the rule's conditions as written, for showing whole:
	// the when expression, then the worker_when expression after
	// "worker_when: "; empty for the catch-all alone.
	Condition string
	// WorkerCondition is the worker_when expression as written, if any.
	WorkerCondition string
	Instruction     string
	// Mode is Respond or Update, never Auto.
	Mode   Mode
	Params []ParamView
	// Warnings are the policy's warnings about this rule.
	Warnings []string
}

// ParamView is one rule parameter as written: a literal value or a
// template's source, RedactedValue for a secret.
type ParamView struct {
	Name  string
	Value string
}

// RuleViews returns every rule, in order, with its warnings. It reads the
// immutable policy only, so it is safe for concurrent use.
func (p *Policy) RuleViews() []RuleView {
	views := make([]RuleView, len(p.rules))
	for i := range p.rules {
		r := &p.rules[i]
		v := RuleView{Index: i + 1, Name: r.name, Instruction: r.instruction, Mode: r.mode}
		if r.when != nil {
			v.Condition = r.when.Source()
		}
		if r.workerWhen != nil {
			v.WorkerCondition = r.workerWhen.Source()
			v.Condition = strings.TrimSpace(v.Condition + " worker_when: " + v.WorkerCondition)
		}
		for _, rp := range r.params {
			pv := ParamView{Name: rp.spec.name}
			switch {
			case IsSecretParam(r.instruction, rp.spec.name):
				pv.Value = RedactedValue
			case rp.tmpl != nil:
				pv.Value = rp.tmpl.Source()
			default:
				pv.Value = showValue(rp.value)
			}
			v.Params = append(v.Params, pv)
		}
		for _, w := range p.warnings {
			if w.Index == i+1 {
				v.Warnings = append(v.Warnings, w.String())
			}
		}
		views[i] = v
	}
	return views
}

// PolicyWarnings returns the warnings that belong to no rule.
func (p *Policy) PolicyWarnings() []string {
	var out []string
	for _, w := range p.warnings {
		if w.Index == 0 {
			out = append(out, w.String())
		}
	}
	return out
}

func showValue(v any) string {
	if list, ok := v.([]string); ok {
		return strings.Join(list, ", ")
	}
	return fmt.Sprint(v)
}

// LoadResult is the outcome of the Store's last load attempt.
type LoadResult struct {
	At time.Time
	// Err is nil when the load succeeded (or found the running policy
	// unchanged); otherwise the running policy stayed.
	Err error
}

// Problems lists what made the load fail, one a line as validate prints
// them; nil after a success.
func (r LoadResult) Problems() []string {
	return Problems(r.Err)
}

// LastLoad returns the outcome of the last load, or a zero LoadResult
// before any.
func (s *Store) LastLoad() LoadResult {
	if r := s.last.Load(); r != nil {
		return *r
	}
	return LoadResult{}
}

// record notes the outcome of a load for LastLoad.
func (s *Store) record(err error) {
	s.last.Store(&LoadResult{At: time.Now(), Err: err})
}
