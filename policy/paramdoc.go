package policy

import (
	"fmt"
	"slices"
	"strings"
)

// ParamDoc describes one instruction parameter as the parameter table Parse
// checks against defines it, for the generated parameter reference.
type ParamDoc struct {
	// Instruction and Name are the rule's instruction and the parameter's
	// snake_case name in a policy file.
	Instruction, Name string
	// Type is the value's kind: string, contact, url, boolean, integer,
	// sid, enum or enum list.
	Type string
	// Check is what a literal or rendered value must satisfy, in words;
	// empty for free text.
	Check string
	// Required is whether every rule with this instruction must set it
	// (itself or through defaults); requirements that depend on the mode
	// are validate's and are not listed here.
	Required bool
	// CallbackKey is the parameter's key in a respond-mode callback reply;
	// empty when only a REST update (update mode) can carry it.
	CallbackKey string
	// Secret parameters are masked wherever an instruction is shown.
	Secret bool
	// Deprecated is the warning validate gives for the parameter, if any.
	Deprecated string
	// Example is a valid value of the Go type Instruction.Params holds for
	// it (string, bool, int or []string).
	Example any
}

// Parameters lists every parameter of every instruction, in the order of
// InstructionNames and then of the table.
func Parameters() []ParamDoc {
	var out []ParamDoc
	for _, ins := range InstructionNames() {
		spec := instructions[ins]
		for _, p := range spec.params {
			out = append(out, ParamDoc{
				Instruction: ins, Name: p.name, Type: p.kind.String(), Check: p.checkText(),
				Required: slices.Contains(spec.required, p.name), CallbackKey: p.callbackKey,
				Secret: p.secret, Deprecated: p.deprecated, Example: p.example(),
			})
		}
	}
	return out
}

// String names a kind in the parameter reference.
func (k kind) String() string {
	return [...]string{kString: "string", kContact: "contact", kURL: "url", kBool: "boolean",
		kInt: "integer", kSID: "sid", kEnum: "enum", kEnumList: "enum list"}[k]
}

// checkText says in words what a value of p must satisfy.
func (p paramSpec) checkText() string {
	switch p.kind {
	case kContact:
		return "non-empty, no whitespace or control characters; a literal that is not E.164, client:, sip: or an identity warns"
	case kURL:
		return "absolute http or https URL; placeholders only in the path or query"
	case kBool:
		return "true or false"
	case kInt:
		return fmt.Sprintf("whole number from %d to %d", p.min, p.max)
	case kSID:
		return fmt.Sprintf("`%s` and 32 hex digits", p.prefix)
	case kEnum:
		return "one of " + strings.Join(p.enum, ", ")
	case kEnumList:
		return "a list (or comma-separated string) of " + strings.Join(p.enum, ", ")
	}
	return ""
}

// example is a valid value of p, of the Go type a decided Param holds.
func (p paramSpec) example() any {
	switch p.kind {
	case kContact:
		return "+15005550006"
	case kURL:
		return "https://example.com/twiml"
	case kBool:
		return true
	case kInt:
		return p.min
	case kSID:
		return p.prefix + "0123456789abcdef0123456789abcdef"
	case kEnum:
		return p.enum[0]
	case kEnumList:
		return []string{p.enum[0]}
	}
	return "x"
}
