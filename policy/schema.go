package policy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/assignd/assignd/internal/jsonout"
)

// SchemaID is the $id of the schema Schema returns: where deploy/ ships it.
const SchemaID = "https://raw.githubusercontent.com/assignd/assignd/main/deploy/policy.schema.json"

// templatePattern matches a value holding a {{placeholder}}: Parse compiles
// any such string as a template, whatever the parameter's type, and checks it
// only once it is rendered.
const templatePattern = `\{\{`

// Schema returns a JSON Schema (draft 2020-12) of policy files of this
// Version. It is generated from the parameter table Parse checks against, so
// the two cannot drift. The schema is for editors, which complete and check a
// policy as it is typed; validate stays the authority, since the schema
// cannot see what needs the whole file: rule order and the catch-all,
// conditions, required parameters that defaults may supply, and what a
// respond-mode reply can carry.
func Schema() []byte {
	defs := map[string]any{
		"template": map[string]any{
			"description": "a template: every {{placeholder}} is filled in when a callback is decided, and the result checked then",
			"type":        "string", "pattern": templatePattern,
		},
		"mode": map[string]any{
			"description": "respond: the instruction is the callback's reply; update: an empty reply and a REST reservation update; auto: update for conference, respond otherwise",
			"enum":        []string{string(Respond), string(Update), string(Auto)},
		},
		"rule": ruleSchema(),
	}
	defaults := map[string]any{"mode": map[string]any{"$ref": "#/$defs/mode"}}
	for _, name := range InstructionNames() {
		defs[name+"-params"] = paramsSchema(name)
		defaults[name] = map[string]any{"$ref": "#/$defs/" + name + "-params"}
	}
	root := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  SchemaID,
		"title":                fmt.Sprintf("assignd routing policy, version %d", Version),
		"description":          "Rules tried top to bottom; the first whose condition matches decides the TaskRouter assignment instruction. Check with assignd validate.",
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"version", "rules"},
		"properties": map[string]any{
			"version":   map[string]any{"description": "the policy format version", "enum": []any{Version, fmt.Sprint(Version)}},
			"timezone":  map[string]any{"description": "the IANA time zone now.hour, now.minute and now.weekday are read in, e.g. America/New_York (default UTC)", "type": "string", "minLength": 1},
			"calendars": calendarsSchema(),
			"tables":    tablesSchema(),
			"defaults": map[string]any{
				"description":          "a mode for every rule, and per instruction parameters merged under each rule's own",
				"type":                 "object",
				"additionalProperties": false,
				"properties":           defaults,
			},
			"experiments":  experimentSchema(),
			"decision_log": decisionLogSchema(),
			"rules": map[string]any{
				"description": "tried in order; the last must be the catch-all, a rule with neither when nor worker_when",
				"type":        "array", "minItems": 1,
				"items": map[string]any{"$ref": "#/$defs/rule"},
			},
		},
		"$defs": defs,
	}
	return jsonout.Indented(root) // only maps, strings and numbers
}

// ruleSchema describes one rule; the parameters a rule may take depend on
// its instruction, which an if/then per instruction selects.
func ruleSchema() map[string]any {
	var byInstruction []any
	for _, name := range InstructionNames() {
		byInstruction = append(byInstruction, map[string]any{
			"if":   map[string]any{"required": []string{"instruction"}, "properties": map[string]any{"instruction": map[string]any{"const": name}}},
			"then": map[string]any{"properties": map[string]any{"params": map[string]any{"$ref": "#/$defs/" + name + "-params"}}},
		})
	}
	return map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"name", "instruction"},
		"properties": map[string]any{
			"name":        map[string]any{"description": "unique; used in logs and metrics", "type": "string", "pattern": ruleNamePattern.String()},
			"when":        map[string]any{"description": "a condition as in a Workflow filter: bare keys read the task's attributes; roots task., worker., callback., now., taskrouter.; a rule with neither when nor worker_when is the catch-all", "type": "string"},
			"worker_when": map[string]any{"description": "a condition as in a TaskQueue's target_workers or a Workflow target's expression: bare keys read the worker's attributes, task. the task's; and-ed with when", "type": "string"},
			"instruction": map[string]any{"enum": InstructionNames()},
			"mode":        map[string]any{"$ref": "#/$defs/mode"},
			"params":      map[string]any{"type": "object"},
		},
		"allOf": byInstruction,
	}
}

// paramsSchema describes the parameters of one instruction.
func paramsSchema(instruction string) map[string]any {
	is := instructions[instruction]
	props := map[string]any{}
	for i := range is.params {
		props[is.params[i].name] = is.params[i].schema()
	}
	desc := fmt.Sprintf("parameters of %s", instruction)
	if len(is.required) > 0 {
		desc += fmt.Sprintf("; a rule needs %s, from its own params or defaults", strings.Join(is.required, " and "))
	}
	return map[string]any{"description": desc, "type": "object", "additionalProperties": false, "properties": props}
}

// schema describes one parameter: its type as check accepts it, or a template.
func (ps *paramSpec) schema() map[string]any {
	var alt map[string]any
	var desc string
	switch ps.kind {
	case kString:
		// A template is a non-empty string too.
		return map[string]any{"description": ps.describeSchema("text"), "type": "string", "minLength": 1}
	case kContact:
		// As checkContact: any text without whitespace, since Twilio's own
		// examples dial "joey" and "18001234567"; the forms that may not be
		// meant are validate's warnings, not errors.
		desc = "a contact: E.164 (+15005550006), client:identity, sip:user@host or a client identity"
		alt = map[string]any{"type": "string", "pattern": `^\S+$`}
	case kURL:
		desc, alt = "an absolute http(s) URL", map[string]any{"type": "string", "pattern": `^[hH][tT][tT][pP][sS]?://[^/?#]+`}
	case kBool:
		desc, alt = "true or false", map[string]any{"enum": []any{true, false, "true", "false"}}
	case kInt:
		// A quoted number ("30") is a number to validate too; its range is
		// validate's to check.
		desc = fmt.Sprintf("a whole number from %d to %d", ps.min, ps.max)
		alt = map[string]any{"anyOf": []any{
			map[string]any{"type": "integer", "minimum": ps.min, "maximum": ps.max},
			map[string]any{"type": "string", "pattern": `^[+-]?[0-9]+$`},
		}}
	case kSID:
		desc = fmt.Sprintf("a %s... SID", ps.prefix)
		alt = map[string]any{"type": "string", "pattern": "^" + ps.prefix + "[0-9a-fA-F]{32}$"}
	case kEnum:
		values := []any{}
		for _, v := range ps.enum {
			values = append(values, v)
		}
		if ps.boolString {
			values = append(values, true, false)
		}
		desc, alt = "one of "+strings.Join(ps.enum, ", "), map[string]any{"enum": values}
	case kEnumList:
		one := "(" + strings.Join(quoteAll(ps.enum), "|") + ")"
		desc = "a list of " + strings.Join(ps.enum, ", ")
		alt = map[string]any{"anyOf": []any{
			map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"enum": ps.enum}},
			map[string]any{"type": "string", "pattern": `^ *` + one + ` *(, *` + one + ` *)*$`},
		}}
	}
	out := map[string]any{
		"description": ps.describeSchema(desc + ", or a {{template}}"),
		"anyOf":       []any{alt, map[string]any{"$ref": "#/$defs/template"}},
	}
	if ps.deprecated != "" {
		out["deprecated"] = true
	}
	return out
}

// describeSchema adds to a parameter's description where it can be sent.
func (ps *paramSpec) describeSchema(desc string) string {
	if ps.secret {
		desc += "; a secret, masked wherever assignd shows it"
	}
	if ps.callbackKey == "" {
		desc += "; sent only in a REST update (mode update or auto)"
	}
	if ps.deprecated != "" {
		desc += "; " + ps.deprecated
	}
	return desc
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = regexp.QuoteMeta(s)
	}
	return out
}
