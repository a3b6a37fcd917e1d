package policytest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/policy"
)

// testCase loads one case; p, the policy under test, is nil if it did not
// load, and then rule names are not checked against it.
func (l *loader) testCase(n *yaml.Node, field string, p *policy.Policy) Case {
	c := Case{Line: n.Line} // an alias's line, not its anchor's
	n = policy.Resolve(n)
	fields := l.mapping(n, field, []string{"name", "task", "worker", "callback", "callback_file", "now", "expect"})
	if n.Kind != yaml.MappingNode {
		return c
	}
	if nn, ok := fields["name"]; !ok || nn.Kind != yaml.ScalarNode || nn.Value == "" {
		l.errorf(n.Line, field+".name", "missing: every case needs a name, for -run and the report")
	} else {
		c.Name = nn.Value
	}
	if t, ok := fields["now"]; ok {
		c.Now = l.time(t, field+".now")
	}
	before := len(l.problems)
	form := l.form(fields, field)
	if _, err := Input(form, c.Now); err != nil && len(l.problems) == before {
		l.errorf(n.Line, field, "%v", err)
	}
	c.Form = form
	if e, ok := fields["expect"]; ok {
		c.Expect = l.expect(e, field+".expect", p)
	} else {
		l.errorf(n.Line, field+".expect", "missing: name at least one of %s", strings.Join(expectKeys, ", "))
	}
	return c
}

// form builds the case's callback form as explain does: from a captured
// body, or from task and worker attributes with placeholder SIDs, then sets
// the callback fields over it.
func (l *loader) form(fields map[string]*yaml.Node, field string) url.Values {
	task, hasTask := fields["task"]
	worker, hasWorker := fields["worker"]
	form := url.Values{}
	if cf, ok := fields["callback_file"]; ok {
		if hasTask || hasWorker {
			l.errorf(cf.Line, field+".callback_file", "a captured callback carries its own attributes: drop task and worker, or set fields with callback")
		}
		path := cf.Value
		if !filepath.IsAbs(path) {
			path = filepath.Join(l.dir, path)
		}
		body, err := os.ReadFile(path)
		if err == nil {
			var parsed url.Values
			if parsed, err = (callback.Spec{Captured: body}).Form(); err == nil {
				form = parsed
			}
		}
		if err != nil {
			l.errorf(cf.Line, field+".callback_file", "reading callback: %v", err)
		}
	} else {
		// Without Set fields, Form cannot fail.
		form, _ = callback.Spec{Task: l.attributes(task, field+".task"), Worker: l.attributes(worker, field+".worker")}.Form()
	}
	if cb, ok := fields["callback"]; ok {
		values := l.mapping(cb, field+".callback", nil)
		for _, k := range policy.Keys(cb) {
			if v := values[k.Value]; v.Kind != yaml.ScalarNode {
				l.errorf(v.Line, field+".callback."+k.Value, "must be a string or number, as a form field is")
			} else {
				form.Set(k.Value, v.Value)
			}
		}
	}
	return form
}

// attributes encodes task or worker attributes as the JSON object the form
// carries; absent attributes are an empty object.
func (l *loader) attributes(n *yaml.Node, field string) string {
	if n == nil {
		return "{}"
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(n.Line, field, "must be a mapping of attributes")
		return "{}"
	}
	var v any
	err := n.Decode(&v)
	var js []byte
	if err == nil {
		js, err = json.Marshal(v)
	}
	if err != nil {
		l.errorf(n.Line, field, "cannot be encoded as JSON: %v", err)
		return "{}"
	}
	return string(js)
}

var expectKeys = []string{"rule", "instruction", "mode", "params", "reply", "skipped"}

func (l *loader) expect(n *yaml.Node, field string, p *policy.Policy) Expect {
	var e Expect
	fields := l.mapping(n, field, expectKeys)
	if n.Kind == yaml.MappingNode && len(n.Content) == 0 {
		l.errorf(n.Line, field, "empty: name at least one of %s", strings.Join(expectKeys, ", "))
	}
	if v, ok := fields["rule"]; ok {
		e.Rule = l.ruleName(v, field+".rule", p)
	}
	if v, ok := fields["instruction"]; ok {
		if e.Instruction = v.Value; !slices.Contains(policy.InstructionNames(), v.Value) || v.Kind != yaml.ScalarNode {
			l.errorf(v.Line, field+".instruction", "%q is not one of %s", v.Value, strings.Join(policy.InstructionNames(), ", "))
		}
	}
	if v, ok := fields["mode"]; ok {
		if e.Mode = policy.Mode(v.Value); (e.Mode != policy.Respond && e.Mode != policy.Update) || v.Kind != yaml.ScalarNode {
			l.errorf(v.Line, field+".mode", "%q is not respond or update: auto is resolved before a decision", v.Value)
		}
	}
	if v, ok := fields["params"]; ok {
		e.Params = l.params(v, field+".params", e.Instruction)
	}
	if v, ok := fields["reply"]; ok {
		e.Reply = l.reply(v, field+".reply")
	}
	if v, ok := fields["skipped"]; ok {
		e.Skipped, e.HasSkipped = l.skipped(v, field+".skipped", p), true
	}
	return e
}

// ruleName checks that the policy has the named rule, so that a renamed
// rule fails its tests as a problem of the file rather than as a mismatch.
func (l *loader) ruleName(n *yaml.Node, field string, p *policy.Policy) string {
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		l.errorf(n.Line, field, "must be a rule name")
		return ""
	}
	if p != nil && !slices.Contains(p.Rules(), n.Value) {
		l.errorf(n.Line, field, "%s has no rule %q; its rules are %s", p.File(), n.Value, strings.Join(p.Rules(), ", "))
	}
	return n.Value
}

// params reads the expected parameters; with an expected instruction, each
// is checked against its parameter table at once.
func (l *loader) params(n *yaml.Node, field, instruction string) []ExpectParam {
	values := l.mapping(n, field, nil)
	var out []ExpectParam
	for _, k := range policy.Keys(n) {
		var v any
		if err := values[k.Value].Decode(&v); err != nil {
			l.errorf(k.Line, field+"."+k.Value, "%v", err)
			continue
		}
		if instruction != "" && slices.Contains(policy.InstructionNames(), instruction) {
			if _, err := policy.CheckParam(instruction, k.Value, v); err != nil {
				l.errorf(k.Line, field+"."+k.Value, "%v", err)
			}
		}
		out = append(out, ExpectParam{Name: k.Value, Value: v})
	}
	return out
}

// reply reads the expected reply: a JSON string, or the same object written
// as YAML.
func (l *loader) reply(n *yaml.Node, field string) json.RawMessage {
	var js []byte
	switch n.Kind {
	case yaml.ScalarNode:
		js = []byte(n.Value)
	case yaml.MappingNode:
		var v any
		if err := n.Decode(&v); err == nil {
			js, _ = json.Marshal(v)
		}
	}
	var obj map[string]any
	if err := json.Unmarshal(js, &obj); err != nil || obj == nil {
		l.errorf(n.Line, field, "must be the reply's JSON object, as a string or a mapping")
		return nil
	}
	return js
}

func (l *loader) skipped(n *yaml.Node, field string, p *policy.Policy) []ExpectSkip {
	if n.Kind != yaml.SequenceNode {
		l.errorf(n.Line, field, "must be a list of {rule, reason}, or [] for none")
		return nil
	}
	out := []ExpectSkip{}
	for i, item := range n.Content {
		item = policy.Resolve(item)
		f := fmt.Sprintf("%s[%d]", field, i)
		values := l.mapping(item, f, []string{"rule", "reason"})
		var s ExpectSkip
		if v, ok := values["rule"]; ok {
			s.Rule = l.ruleName(v, f+".rule", p)
		} else if item.Kind == yaml.MappingNode {
			l.errorf(item.Line, f+".rule", "missing")
		}
		if v, ok := values["reason"]; !ok || (v.Value != "render" && v.Value != "invalid") {
			l.errorf(item.Line, f+".reason", "must be render (a template could not be filled in) or invalid (its value failed the parameter's check)")
		} else {
			s.Reason = v.Value
		}
		out = append(out, s)
	}
	return out
}
