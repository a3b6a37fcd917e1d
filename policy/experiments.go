package policy

import (
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/assignd/assignd/policy/experiment"
	"github.com/assignd/assignd/policy/expr"
)

// experimentNamePattern is what an experiment may be called: a word that
// reads as one key in experiment.NAME, since TaskRouter expressions have
// no hyphens.
var experimentNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// armNamePattern is what an arm may be called: a label value that reads
// well in metrics and compares as a plain string.
var armNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Experiments returns the policy's experiments, nil when it defines none.
func (p *Policy) Experiments() *expr.Experiments { return p.experiments }

// experiments compiles the experiments section: per experiment a key
// template, whole-number arm weights summing to 100 and an optional salt.
func (ps *parser) experiments(n *yaml.Node) *expr.Experiments {
	if n == nil {
		return nil
	}
	fields := ps.mapping(n, nil, "experiments", nil)
	var (
		splits []*experiment.Split
		keys   []*expr.Template
	)
	for _, k := range Keys(n) {
		v, ok := fields[k.Value]
		if !ok {
			continue
		}
		field := "experiments." + k.Value
		if !experimentNamePattern.MatchString(k.Value) {
			ps.errorf(k.Line, nil, field, "%q is not a valid experiment name: use letters, digits and underscores, starting with a letter (expressions have no hyphens)", k.Value)
			continue
		}
		split, key := ps.experiment(k.Value, field, v)
		if split != nil && key != nil {
			splits, keys = append(splits, split), append(keys, key)
		}
	}
	if len(splits) > experiment.Max {
		ps.errorf(n.Line, nil, "experiments", "%d experiments; at most %d may run in one policy", len(splits), experiment.Max)
		return nil
	}
	if len(splits) == 0 {
		return nil
	}
	x, err := expr.NewExperiments(splits, keys)
	if err != nil {
		ps.errorf(n.Line, nil, "experiments", "%v", err)
	}
	return x
}

// experiment compiles one experiment; either result is nil when it has a
// problem, which is reported.
func (ps *parser) experiment(name, field string, n *yaml.Node) (*experiment.Split, *expr.Template) {
	fields := ps.mapping(n, nil, field, []string{"key", "arms", "salt"})
	key := ps.experimentKey(n, field, fields["key"])
	salt := ""
	if sn, ok := fields["salt"]; ok {
		if sn.Kind != yaml.ScalarNode || sn.Value == "" {
			ps.errorf(sn.Line, nil, field+".salt", "must be a non-empty string")
		}
		salt = sn.Value
	}
	an, ok := fields["arms"]
	if !ok {
		ps.errorf(n.Line, nil, field+".arms", "missing: give each arm a whole-number weight, e.g. arms: {control: 90, treatment: 10}")
		return nil, key
	}
	arms, ok := ps.arms(an, field+".arms")
	if !ok {
		return nil, key
	}
	split, err := experiment.NewSplit(name, salt, arms)
	if err != nil {
		ps.errorf(an.Line, nil, field+".arms", "%v", err)
		return nil, key
	}
	return split, key
}

// arms reads the arms mapping: names and whole-number weights that sum to
// 100, in file order.
func (ps *parser) arms(n *yaml.Node, field string) ([]experiment.Arm, bool) {
	fields := ps.mapping(n, nil, field, nil)
	var arms []experiment.Arm
	good, sum := len(fields) > 0, 0
	for _, k := range Keys(n) {
		v, ok := fields[k.Value]
		if !ok {
			good = false
			continue
		}
		w, err := strconv.Atoi(v.Value)
		switch {
		case !armNamePattern.MatchString(k.Value):
			ps.errorf(k.Line, nil, field+"."+k.Value, "%q is not a valid arm name: letters, digits, '_', '.' and '-', starting with a letter or digit", k.Value)
			good = false
		case v.Kind != yaml.ScalarNode || err != nil || w < 0 || w > 100:
			ps.errorf(v.Line, nil, field+"."+k.Value, "%q is not a weight: give a whole number of percent from 0 to 100", v.Value)
			good = false
		default:
			sum += w
			arms = append(arms, experiment.Arm{Name: k.Value, Weight: w})
		}
	}
	switch {
	case len(fields) == 0 && n.Kind == yaml.MappingNode:
		ps.errorf(n.Line, nil, field, "no arms: give each arm a whole-number weight, e.g. {control: 90, treatment: 10}")
	case good && sum != 100:
		ps.errorf(n.Line, nil, field, "weights sum to %d, not 100", sum)
		good = false
	case len(arms) > experiment.MaxArms:
		ps.errorf(n.Line, nil, field, "%d arms; at most %d", len(arms), experiment.MaxArms)
		good = false
	}
	return arms, good
}

// experimentKey compiles the key template. A key may read the task, the
// worker and the callback, as parameter templates do, but not the clock
// (the arm would change with the time of day) nor another experiment.
func (ps *parser) experimentKey(parent *yaml.Node, field string, n *yaml.Node) *expr.Template {
	field += ".key"
	if n == nil {
		ps.errorf(parent.Line, nil, field, "missing: the bucketing key, a template such as \"{{task.from}}\"")
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		ps.errorf(n.Line, nil, field, "must be a non-empty template such as \"{{task.from}}\"")
		return nil
	}
	t, err := expr.CompileTemplate(n.Value, false)
	if err != nil {
		ps.errorf(n.Line, nil, field, "%v", err)
		return nil
	}
	if t.IsLiteral() {
		ps.errorf(n.Line, nil, field, "%q reads nothing, so every caller would get the same arm; use a placeholder such as {{task.from}}", n.Value)
		return nil
	}
	for _, ref := range t.Refs() {
		switch ref.Root() {
		case "task", "worker", "callback":
		default:
			ps.errorf(n.Line, nil, field, "%s cannot be read by a key: a key reads task., worker. or callback., so that a caller keeps its arm", ref)
			return nil
		}
	}
	return t
}

// checkExperimentRefs reports each experiment.NAME in a rule's condition
// that the policy does not define, and each arm compared with it that the
// experiment does not have, with a caret under the reference.
func (ps *parser) checkExperimentRefs(r *rule, line int, field string, e *expr.Expr, x *expr.Experiments) {
	for _, ref := range e.Refs() {
		name := ref.Experiment()
		if name == "" || x.Set().Index(name) >= 0 {
			continue
		}
		se := e.ErrorAt(ref, "unknown experiment %q; the experiments section defines %s", name, experimentNames(x))
		pr := ps.errorf(line, r, field, "%v", se)
		pr.Detail = se.Caret()
	}
	e.ComparedArms(func(ref *expr.Ref, arm string) {
		i := x.Set().Index(ref.Experiment())
		if i < 0 {
			return
		}
		split := x.Set().Split(i)
		if split.ArmIndex(arm) >= 0 {
			return
		}
		names := make([]string, len(split.Arms()))
		for j, a := range split.Arms() {
			names[j] = a.Name
		}
		se := e.ErrorAt(ref, "experiment %q has no arm %q, so this never matches; its arms are %s", split.Name(), arm, strings.Join(names, ", "))
		pr := ps.errorf(line, r, field, "%v", se)
		pr.Detail = se.Caret()
	})
}

// warnUnusedExperiments warns about experiments no condition reads: no
// callback can ever be in them.
func (ps *parser) warnUnusedExperiments(p *Policy, n *yaml.Node) {
	set := p.experiments.Set()
	used := make([]bool, set.Len())
	for i := range p.rules {
		if w := p.rules[i].when; w != nil {
			for _, ref := range w.Refs() {
				if j := set.Index(ref.Experiment()); j >= 0 {
					used[j] = true
				}
			}
		}
	}
	keys := Keys(n)
	for i, u := range used {
		if u {
			continue
		}
		name := set.Split(i).Name()
		for _, k := range keys {
			if k.Value == name {
				ps.warnf(k.Line, nil, "experiments."+name, "no rule's when reads experiment.%s, so no callback is ever in it", name)
			}
		}
	}
}

// experimentSchema describes the experiments section for the JSON Schema.
func experimentSchema() map[string]any {
	return map[string]any{
		"description": "experiments that rules read as experiment.NAME: each callback's arm is a hash of the experiment's name, its salt and the rendered key",
		"type":        "object",
		"propertyNames": map[string]any{
			"pattern": experimentNamePattern.String(),
		},
		"additionalProperties": map[string]any{
			"type":                 "object",
			"additionalProperties": false,
			"required":             []string{"key", "arms"},
			"properties": map[string]any{
				"key":  map[string]any{"description": "the bucketing key, a template such as {{task.from}}; callback.TaskSid when it cannot render", "type": "string", "minLength": 1},
				"salt": map[string]any{"description": "changes every caller's arm, as renaming the experiment would", "type": "string", "minLength": 1},
				"arms": map[string]any{
					"description":          "arm names and whole-number weights in percent, summing to 100",
					"type":                 "object",
					"minProperties":        1,
					"additionalProperties": map[string]any{"type": "integer", "minimum": 0, "maximum": 100},
				},
			},
		},
	}
}

// experimentNames lists the defined experiments for an error message.
func experimentNames(x *expr.Experiments) string {
	set := x.Set()
	if set.Len() == 0 {
		return "none"
	}
	var b strings.Builder
	for i := range set.Len() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(set.Split(i).Name())
	}
	return b.String()
}

// ExperimentArm is one experiment an explained decision evaluated: its
// arm and the key the arm came from, masked, because a key is often the
// caller's phone number.
type ExperimentArm struct {
	Experiment string `json:"experiment"`
	Arm        string `json:"arm"`
	// KeyFrom is the key template, or callback.TaskSid when the template
	// could not render and the fallback key was used.
	KeyFrom string `json:"key_from"`
	// Key is the key's last four characters after "…", or "…" alone for
	// a key of four characters or fewer; never the whole key.
	Key string `json:"key"`
	// Point is the key's point in [0, 10000), which the weights divide.
	Point int `json:"point"`
}

// explainExperiments lists the experiments d evaluated, with their keys.
func (p *Policy) explainExperiments(in *Input, d *Decision) []ExperimentArm {
	var out []ExperimentArm
	env := p.env(in)
	for i := range d.Experiments.Len() {
		name, arm, ok := d.Experiments.Get(i)
		if !ok {
			continue
		}
		key, point, fallback := p.experiments.ExperimentKey(i, &env)
		from := p.experiments.Key(i).Source()
		if fallback {
			from = expr.FallbackKey
		}
		out = append(out, ExperimentArm{Experiment: name, Arm: arm, KeyFrom: from, Key: MaskKey(key), Point: point})
	}
	return out
}

// MaskKey shows a bucketing key without giving it away: "…" and its last
// four characters, or "…" alone when it is no longer than that.
func MaskKey(key string) string {
	r := []rune(key)
	if len(r) <= 4 {
		return "…"
	}
	return "…" + string(r[len(r)-4:])
}

// addExperiments adds what the experiments' keys read, and the fallback
// key, since evaluating experiment.NAME reads them.
func (rd *Reads) addExperiments(x *expr.Experiments) {
	n := x.Set().Len()
	for i := range n {
		rd.add(x.Key(i).Refs())
	}
	if n > 0 {
		rd.Callback = append(rd.Callback, "TaskSid")
	}
}
