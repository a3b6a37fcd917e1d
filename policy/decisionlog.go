package policy

import (
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/assignd/assignd/policy/expr"
)

// LogRules is what a policy says about the records of its decisions in
// the decision log: which inputs are masked, which are left out. A path is
// a top-level reference, "task.KEY", "worker.KEY" or "callback.FIELD",
// and applies to the whole value under that key.
type LogRules struct {
	// Declared is set when the policy has a decision_log section. Without
	// one, the decision log masks every value that looks like a phone
	// number; with one, it masks exactly what Mask lists.
	Declared bool
	// Mask lists the paths whose values are recorded as "sha256:<hex>",
	// joinable but not readable; Drop those left out entirely.
	Mask, Drop []string
	// Secret lists the paths that secret parameters (see IsSecretParam)
	// render from: they are never recorded, whatever the section says.
	Secret []string
}

// DecisionLog returns the policy's decision_log rules. It walks every rule
// for Secret, so callers on a hot path should keep the answer for as long
// as they keep the policy.
func (p *Policy) DecisionLog() LogRules {
	lr := p.logRules
	lr.Secret = nil
	for i := range p.rules {
		r := &p.rules[i]
		for _, rp := range r.params {
			if rp.tmpl == nil || !IsSecretParam(r.instruction, rp.spec.name) {
				continue
			}
			for _, ref := range rp.tmpl.Refs() {
				if root := ref.Root(); root == "task" || root == "worker" || root == "callback" {
					lr.Secret = append(lr.Secret, root+"."+ref.Key())
				}
			}
		}
	}
	slices.Sort(lr.Secret)
	lr.Secret = slices.Compact(lr.Secret)
	return lr
}

// decisionLog compiles the decision_log section; n is nil without one.
// Every path must be a top-level reference into a document, listed once.
func (ps *parser) decisionLog(n *yaml.Node) LogRules {
	if n == nil {
		return LogRules{}
	}
	lr := LogRules{Declared: true}
	fields := ps.mapping(n, nil, "decision_log", []string{"mask", "drop"})
	seen := map[string]string{}
	for _, list := range []struct {
		name string
		dst  *[]string
	}{{"mask", &lr.Mask}, {"drop", &lr.Drop}} {
		ln, ok := fields[list.name]
		if !ok {
			continue
		}
		field := "decision_log." + list.name
		if ln = resolve(ln); ln.Kind != yaml.SequenceNode {
			ps.errorf(ln.Line, nil, field, "must be a list of paths such as task.from, worker.contact_uri or callback.From")
			continue
		}
		for _, item := range ln.Content {
			item = resolve(item)
			path, problem := logPath(item)
			switch {
			case problem != "":
				ps.errorf(item.Line, nil, field, "%q %s", item.Value, problem)
			case seen[path] != "":
				ps.errorf(item.Line, nil, field, "%q is already listed under decision_log.%s", path, seen[path])
			default:
				seen[path] = list.name
				*list.dst = append(*list.dst, path)
			}
		}
	}
	return lr
}

// logPath checks one decision_log path and returns it in canonical form.
func logPath(n *yaml.Node) (string, string) {
	const want = "must be task.KEY, worker.KEY or callback.FIELD: a top-level key of a document the policy reads"
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		return "", want
	}
	ref, err := expr.ParseRef(n.Value)
	if err != nil {
		return "", want
	}
	root := ref.Root()
	if root != "task" && root != "worker" && root != "callback" {
		return "", want
	}
	path := root + "." + ref.Key()
	if ref.String() != path || n.Value != path {
		return "", want + "; masking applies to the whole value under a key"
	}
	return path, ""
}

// decisionLogSchema describes the decision_log section for Schema.
func decisionLogSchema() map[string]any {
	paths := map[string]any{
		"type": "array", "uniqueItems": true,
		"items": map[string]any{"type": "string", "pattern": `^(task|worker|callback)\.[^.\[\]]+$`},
	}
	return map[string]any{
		"description":          "what the decision log records of each decision's inputs; without this section, values that look like phone numbers are masked",
		"type":                 "object",
		"additionalProperties": false,
		"properties": map[string]any{
			"mask": withDescription(paths, "paths recorded as sha256:<hex> of the value: joinable, not readable"),
			"drop": withDescription(paths, "paths left out of the records entirely"),
		},
	}
}

func withDescription(m map[string]any, desc string) map[string]any {
	out := map[string]any{"description": desc}
	for k, v := range m {
		out[k] = v
	}
	return out
}
