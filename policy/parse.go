package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the policy's timezone must resolve on a distroless image too

	"go.yaml.in/yaml/v3"

	"github.com/assignd/assignd/policy/calendar"
	"github.com/assignd/assignd/policy/expr"
	"github.com/assignd/assignd/policy/table"
)

// Version is the policy file format this package reads.
const Version = 1

// Policy is a compiled policy file. Parse does all the fallible work, so a
// Policy is immutable and its Decide is safe for concurrent use.
type Policy struct {
	file     string
	source   []byte
	hash     string
	loc      *time.Location
	rules    []rule
	warnings []Problem
	update   bool
	// redacted is the source with its secrets masked, computed once at
	// load so that showing it parses nothing.
	redacted []byte
	// calendars are the compiled calendars section; see calendars.go.
	calendars *calendar.Set
	tables    []*table.Table // sorted by name
	// experiments defines experiment.NAME; nil when there are none.
	experiments *expr.Experiments
	logRules    LogRules
}

// rule is one compiled rule.
type rule struct {
	name  string
	index int // 0-based
	// catchAll is set for the rule with neither when nor worker_when,
	// whether or not the other rules' conditions compiled.
	catchAll    bool
	when        *expr.Expr
	instruction string
	mode        Mode
	params      []ruleParam
	// static is the rule's rendered instruction and reply when none of its
	// parameters is a template, so that deciding it costs no allocation.
	static     *Instruction
	staticJSON []byte

	// workerWhen is the rule's target condition (bare keys read the
	// worker), and-ed with when, a filter condition (bare keys read the
	// task); a rule matches when each condition it has holds.
	workerWhen *expr.Expr
	// dialsContact marks a dequeue without to whose timeout may exceed
	// what TaskRouter allows for SIP, so that each decision checks the
	// worker's contact_uri (see sipTimeout).
	dialsContact bool
}

// ruleParam is one parameter of a rule: a checked literal or a template
// checked when it is rendered.
type ruleParam struct {
	spec  *paramSpec
	value any
	tmpl  *expr.Template
	line  int
	// bad marks a parameter whose problem is already reported, so that it
	// still counts as given and is not also reported as missing.
	bad bool
}

// File returns the name the policy was parsed under.
func (p *Policy) File() string { return p.file }

// Source returns the policy file as it was read.
func (p *Policy) Source() []byte { return p.source }

// Hash identifies the policy bundle: the first 12 hex digits of the
// SHA-256 of the policy's source or, when it has tables, of the source and
// every table (see bundleHash), so that it changes when any table changes.
func (p *Policy) Hash() string { return p.hash[:12] }

// Rules returns the rule names in order.
func (p *Policy) Rules() []string {
	names := make([]string, len(p.rules))
	for i, r := range p.rules {
		names[i] = r.name
	}
	return names
}

// Warnings returns the problems that did not stop the policy from loading
// but deserve a look: shadowed rules, ambiguous precedence, rejects that
// bounce the task straight back.
func (p *Policy) Warnings() []Problem { return p.warnings }

// HasUpdateRules reports whether any rule decides in update mode, which
// needs REST credentials.
func (p *Policy) HasUpdateRules() bool { return p.update }

var ruleNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// parser collects every problem of one file instead of stopping at the first.
type parser struct {
	file     string
	problems []Problem
	warnings []Problem
	// secrets are the value nodes of the secret parameters loaded, for
	// RedactedSource.
	secrets []*yaml.Node
	scope   *expr.Scope // the policy's tables, for its expressions
}

func (ps *parser) errorf(line int, r *rule, field, format string, args ...any) *Problem {
	p := Problem{File: ps.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
	if r != nil {
		p.Rule, p.Index = r.name, r.index+1
	}
	ps.problems = append(ps.problems, p)
	return &ps.problems[len(ps.problems)-1]
}

func (ps *parser) warnf(line int, r *rule, field, format string, args ...any) {
	p := Problem{File: ps.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
	if r != nil {
		p.Rule, p.Index = r.name, r.index+1
	}
	ps.warnings = append(ps.warnings, p)
}

// loadError returns the problems found so far as a *LoadError, keeping the
// first MaxProblems: a file with thousands of problems, such as a wrong
// file given as the policy, still gives a short, readable answer.
func (ps *parser) loadError() *LoadError {
	if n := len(ps.problems); n > MaxProblems {
		more := n - MaxProblems
		problems := append(ps.problems[:MaxProblems:MaxProblems], Problem{
			File: ps.file,
			Msg:  fmt.Sprintf("and %d more problems not shown; fix these first", more),
		})
		return &LoadError{Problems: problems, More: more}
	}
	return &LoadError{Problems: ps.problems}
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// Parse compiles a policy file. It reports every problem at once, as a
// *LoadError, each with file, line, rule and field.
func Parse(filename string, src []byte) (*Policy, error) {
	return parse(filename, src, Options{})
}

func parse(filename string, src []byte, opts Options) (*Policy, error) {
	ps := &parser{file: filename}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		line := 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = yamlLine.ReplaceAllString(msg, "")
		msg = strings.TrimLeft(msg, ": ")
		ps.errorf(line, nil, "", "not valid YAML: %s", msg)
		return nil, ps.loadError()
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		ps.errorf(0, nil, "", "empty policy: it needs version: 1 and rules")
		return nil, ps.loadError()
	}
	if err := CheckExpansion(&doc); err != nil {
		ps.errorf(doc.Line, nil, "", "%v", err)
		return nil, ps.loadError()
	}
	top := resolve(doc.Content[0])
	if top.Kind != yaml.MappingNode {
		ps.errorf(top.Line, nil, "", "the policy must be a mapping with version and rules")
		return nil, ps.loadError()
	}

	p := &Policy{file: filename, source: slices.Clone(src), loc: time.UTC}
	fields := ps.mapping(top, nil, "", []string{"version", "timezone", "calendars", "tables", "defaults", "experiments", "rules", "decision_log"})
	before := len(ps.problems)
	ps.scope, p.tables = ps.tables(fields["tables"], filename, opts)
	if len(ps.problems) > before {
		// The rules would only add that the broken tables are unknown.
		return nil, ps.loadError()
	}
	p.hash = bundleHash(src, p.tables)

	if n, ok := fields["version"]; !ok {
		ps.errorf(top.Line, nil, "version", "missing: add version: %d", Version)
	} else if v, err := strconv.Atoi(n.Value); n.Kind != yaml.ScalarNode || err != nil || v != Version {
		ps.errorf(n.Line, nil, "version", "%q is not a supported version; this assignd reads version %d", n.Value, Version)
	}
	if n, ok := fields["timezone"]; ok {
		if loc, err := time.LoadLocation(n.Value); n.Kind != yaml.ScalarNode || err != nil || n.Value == "" {
			ps.errorf(n.Line, nil, "timezone", "%q is not an IANA time zone such as America/New_York", n.Value)
		} else {
			p.loc = loc
		}
	}
	p.calendars = ps.calendars(fields["calendars"])
	p.experiments = ps.experiments(fields["experiments"])
	p.logRules = ps.decisionLog(fields["decision_log"])
	defaultMode, defaults := ps.defaults(fields["defaults"])
	rulesNode, ok := fields["rules"]
	if !ok || rulesNode.Kind != yaml.SequenceNode || len(rulesNode.Content) == 0 {
		line := top.Line
		if ok {
			line = rulesNode.Line
		}
		ps.errorf(line, nil, "rules", "must be a non-empty list of rules ending with a catch-all (a rule with neither when nor worker_when)")
	} else {
		ps.rules(p, rulesNode, defaultMode, defaults)
		ps.checkTemplateCalendars(p)
	}
	if p.experiments != nil {
		ps.warnUnusedExperiments(p, fields["experiments"])
	}
	if len(ps.problems) > 0 {
		return nil, ps.loadError()
	}
	p.warnings = ps.warnings
	p.redacted = redact(p.source, &doc, ps.secrets)
	return p, nil
}

// mapping is Mapping, with problems reported against rule r.
func (ps *parser) mapping(n *yaml.Node, r *rule, field string, allowed []string) map[string]*yaml.Node {
	return Mapping(n, field, allowed, func(line int, field, problem string) {
		ps.errorf(line, r, field, "%s", problem)
	})
}

func (ps *parser) mode(n *yaml.Node, r *rule, field string) Mode {
	switch m := Mode(n.Value); m {
	case Respond, Update, Auto:
		if n.Kind == yaml.ScalarNode {
			return m
		}
	}
	ps.errorf(n.Line, r, field, "%q is not one of respond, update, auto", n.Value)
	return Auto
}

// defaults compiles the defaults section: a mode and, per instruction,
// parameters merged under each rule's own.
func (ps *parser) defaults(n *yaml.Node) (Mode, map[string][]ruleParam) {
	out := map[string][]ruleParam{}
	if n == nil {
		return Auto, out
	}
	allowed := append([]string{"mode"}, InstructionNames()...)
	fields := ps.mapping(n, nil, "defaults", allowed)
	mode := Auto
	if m, ok := fields["mode"]; ok {
		mode = ps.mode(m, nil, "defaults.mode")
	}
	for _, name := range InstructionNames() {
		if pn, ok := fields[name]; ok {
			out[name] = ps.params(pn, nil, name, "defaults."+name)
		}
	}
	return mode, out
}

// params compiles one params mapping for an instruction.
func (ps *parser) params(n *yaml.Node, r *rule, instruction, field string) []ruleParam {
	spec := instructions[instruction]
	fields := ps.mapping(n, r, field, nil)
	var out []ruleParam
	for _, k := range Keys(n) {
		v, ok := fields[k.Value]
		if !ok {
			continue
		}
		key := joinField(field, k.Value)
		psp := spec.lookup(k.Value)
		if psp == nil {
			if len(spec.params) == 0 {
				ps.errorf(k.Line, r, key, "%s takes no parameters", instruction)
			} else {
				ps.errorf(k.Line, r, key, "unknown parameter for %s; known: %s", instruction, strings.Join(spec.names(), ", "))
			}
			continue
		}
		if psp.secret {
			ps.secrets = append(ps.secrets, v)
		}
		rp, err := compileParam(psp, v, ps.scope)
		if err != nil {
			ps.errorf(v.Line, r, key, "%v", secretSafe(psp, err))
			rp.bad = true
		} else if c, isString := rp.value.(string); isString && psp.kind == kContact {
			if w := contactWarning(c); w != "" {
				ps.warnf(v.Line, r, key, "%s", w)
			}
		}
		rp.line = k.Line
		out = append(out, rp)
	}
	return out
}

// compileParam turns one parameter's YAML value into a checked literal or
// a compiled template.
func compileParam(psp *paramSpec, v *yaml.Node, sc *expr.Scope) (ruleParam, error) {
	rp := ruleParam{spec: psp}
	var raw any
	if err := v.Decode(&raw); err != nil {
		return rp, err
	}
	if s, isString := raw.(string); isString && strings.Contains(s, "{{") {
		t, err := sc.CompileTemplate(s, psp.kind == kURL)
		if err != nil {
			return rp, err
		}
		if !t.IsLiteral() {
			rp.tmpl = t
			return rp, nil
		}
	}
	checked, err := psp.check(raw)
	if err != nil {
		return rp, err
	}
	rp.value = checked
	return rp, nil
}

// ruleName finds a rule's name before its mapping is checked, so that every
// problem of the rule, the first included, names it.
func ruleName(n *yaml.Node) string {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "name" {
				return resolve(n.Content[i+1]).Value
			}
		}
	}
	return ""
}

// rules compiles the rule list and checks it as a whole.
func (ps *parser) rules(p *Policy, list *yaml.Node, defaultMode Mode, defaults map[string][]ruleParam) {
	seen := map[string]int{}
	conditions := map[string]int{}
	alwaysTrue := -1
	for i, n := range list.Content {
		n = resolve(n)
		r := rule{index: i, name: ruleName(n)}
		fields := ps.mapping(n, &r, "", []string{"name", "when", "worker_when", "instruction", "mode", "params"})
		switch nn := fields["name"]; {
		case nn == nil:
			ps.errorf(n.Line, &r, "name", "missing: every rule needs a name, used in logs and metrics")
		case nn.Kind != yaml.ScalarNode:
			ps.errorf(nn.Line, &r, "name", "must be a string")
		case !ruleNamePattern.MatchString(nn.Value):
			ps.errorf(nn.Line, &r, "name", "must start with a letter or digit and hold only letters, digits, '_', '.' and '-'")
		case seen[nn.Value] > 0:
			ps.errorf(nn.Line, &r, "name", "already used by rule #%d; names must be unique", seen[nn.Value])
		default:
			seen[nn.Value] = i + 1
		}

		ps.conditions(p, &r, n, fields, conditions, &alwaysTrue, i == len(list.Content)-1)

		in, ok := fields["instruction"]
		switch {
		case !ok:
			ps.errorf(n.Line, &r, "instruction", "missing; one of %s", strings.Join(InstructionNames(), ", "))
			p.rules = append(p.rules, r)
			continue
		case instructions[in.Value] == nil || in.Kind != yaml.ScalarNode:
			ps.errorf(in.Line, &r, "instruction", "%q is not one of %s", in.Value, strings.Join(InstructionNames(), ", "))
			p.rules = append(p.rules, r)
			continue
		}
		r.instruction = in.Value

		r.mode = defaultMode
		if mn, ok := fields["mode"]; ok {
			r.mode = ps.mode(mn, &r, "mode")
		}
		if r.mode == Auto {
			r.mode = Respond
			if r.instruction == Conference {
				r.mode = Update
			}
		}
		if r.mode == Update {
			p.update = true
		}

		var own []ruleParam
		if pn, ok := fields["params"]; ok {
			own = ps.params(pn, &r, r.instruction, "params")
		}
		r.params = merge(instructions[r.instruction], defaults[r.instruction], own)
		ps.checkRule(&r, n.Line)
		r.static, r.staticJSON = staticInstruction(&r)
		p.rules = append(p.rules, r)
	}
	if last := resolve(list.Content[len(list.Content)-1]); !p.rules[len(p.rules)-1].catchAll {
		ps.errorf(last.Line, &p.rules[len(p.rules)-1], "when", "the last rule must be the catch-all, with neither when nor worker_when, so that every callback gets a decision")
	}
}

// merge lays a rule's own parameters over the defaults for its
// instruction, in the instruction's parameter order.
func merge(spec *instructionSpec, defaults, own []ruleParam) []ruleParam {
	var out []ruleParam
	for i := range spec.params {
		s := &spec.params[i]
		var chosen *ruleParam
		for j := range defaults {
			if defaults[j].spec == s {
				chosen = &defaults[j]
			}
		}
		for j := range own {
			if own[j].spec == s {
				chosen = &own[j]
			}
		}
		if chosen != nil {
			out = append(out, *chosen)
		}
	}
	return out
}

// checkRule checks what only the merged rule shows: required parameters,
// what a respond-mode reply can carry, and the catch-all's certainty.
func (ps *parser) checkRule(r *rule, line int) {
	has := func(name string) bool {
		for _, p := range r.params {
			if p.spec.name == name {
				return true
			}
		}
		return false
	}
	var missing []string
	for _, name := range instructions[r.instruction].required {
		if !has(name) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		ps.errorf(line, r, "params", "%s needs %s; missing %s", r.instruction,
			strings.Join(instructions[r.instruction].required, " and "), strings.Join(missing, ", "))
	}
	if r.mode == Respond {
		for _, p := range r.params {
			if p.spec.callbackKey == "" {
				ps.errorf(p.line, r, "params."+p.spec.name, "a respond-mode %s reply cannot carry this parameter; use mode: update (or auto), which sends it over REST", r.instruction)
			}
		}
	}
	if r.catchAll {
		for _, p := range r.params {
			if p.tmpl != nil {
				ps.errorf(p.line, r, "params."+p.spec.name, "the catch-all must not use templates: a value that fails to render would leave the callback without a decision")
			}
		}
	}
	ps.checkTaskRouterRequires(r, line, has)
	ps.checkTwilioLimits(r)
	switch {
	case r.instruction == Reject && r.mode == Update && !has("activity_sid"):
		ps.warnf(line, r, "params", "reject without activity_sid leaves the worker available, so TaskRouter can offer the task straight back")
	case r.instruction == Redirect && !has("accept"):
		ps.warnf(line, r, "params", "redirect without accept leaves the reservation pending: the call has left the queue and assignd never accepts later; set accept: true, or accept: false if something else accepts it")
	case r.mode == Respond && (r.instruction == Dequeue || r.instruction == Call) && !has("to") &&
		!strings.Contains(r.canonical(), "worker.contact_uri"):
		ps.warnf(line, r, "params", "%s without to dials worker.contact_uri; workers whose attributes lack it fail the instruction", r.instruction)
	}
}

// checkTaskRouterRequires refuses what TaskRouter refuses: parameters its
// pages mark required, in the mode that sends them.
func (ps *parser) checkTaskRouterRequires(r *rule, line int, has func(string) bool) {
	switch {
	case r.instruction == Reject && r.mode == Respond && !has("activity_sid"):
		// The callback-response table marks it required; error 40100.
		ps.errorf(line, r, "params", "a respond-mode reject needs activity_sid, or TaskRouter refuses the reply (error 40100); add it, or use mode: update, where the worker keeps its previous activity")
	case r.instruction == Dequeue && r.mode == Update && !has("from"):
		// The Reservations REST page marks DequeueFrom required; error 40132.
		ps.errorf(line, r, "params", "an update-mode dequeue needs from, or TaskRouter refuses the update (error 40132); add it, or use mode: respond, where TaskRouter uses the number the caller dialed")
	case r.instruction == Conference && !has("from"):
		// Errors 40138 and 40141 list a conference without from.
		ps.errorf(line, r, "params", "conference needs from, the caller ID of the call to the worker, or TaskRouter refuses it (errors 40138, 40141)")
	}
}
