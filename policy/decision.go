package policy

import (
	"time"

	"github.com/assignd/assignd/policy/calendar"
	"github.com/assignd/assignd/policy/experiment"
)

// Mode says how an instruction reaches TaskRouter.
type Mode string

// The modes a rule may name. Auto is resolved at load time, so a Decision
// carries only Respond or Update.
const (
	// Respond returns the instruction as the callback's JSON reply.
	Respond Mode = "respond"
	// Update replies with an empty 200 and POSTs the reservation update over REST.
	Update Mode = "update"
	// Auto is Update for conference, whose full parameter set exists only in
	// the REST update, and Respond for every other instruction.
	Auto Mode = "auto"
)

// Instruction names, as TaskRouter spells them.
const (
	Accept     = "accept"
	Reject     = "reject"
	Dequeue    = "dequeue"
	Call       = "call"
	Redirect   = "redirect"
	Conference = "conference"
)

// Input is one assignment callback as Decide sees it.
type Input struct {
	// Task and Worker are the decoded TaskAttributes and WorkerAttributes:
	// JSON objects whose values are map[string]any, []any, string,
	// json.Number (or float64), bool or nil, as encoding/json decodes them
	// with UseNumber, so that a template renders a large integer as sent.
	Task   map[string]any
	Worker map[string]any
	// Callback holds every form field of the callback by name, as strings,
	// except TaskAge and TaskPriority, which are float64.
	Callback map[string]any
	// Now is when the callback arrived; now.* in expressions read it in the
	// policy's time zone.
	Now time.Time
	// Overrides are the calendar overrides in force (see
	// calendar.ParseOverrides); nil means none.
	Overrides *calendar.Overrides
}

// Param is one parameter of an instruction, rendered and typed.
type Param struct {
	// Name is the policy file's snake_case name, e.g. "conference_record".
	Name string
	// Value is a string, bool, int or []string, as the parameter's kind says.
	Value any
}

// Instruction is what TaskRouter is told to do with the reservation.
type Instruction struct {
	// Name is accept, reject, dequeue, call, redirect or conference.
	Name string
	// Params holds the parameters the policy set, in a fixed order per
	// instruction; a parameter the policy did not set is absent.
	Params []Param
}

// Get returns the value of the named parameter and whether it is set.
func (in Instruction) Get(name string) (any, bool) {
	for _, p := range in.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return nil, false
}

// RedactedValue stands in for a secret parameter's value wherever an
// instruction is shown to people: logs, explain and the admin API.
const RedactedValue = "[redacted]"

// Redacted returns a copy of the instruction in which every secret parameter
// (see IsSecretParam) holds RedactedValue: the one way a decided
// instruction's secrets are masked, so that logs, explain's text and JSON,
// the REST form it shows and the console all hide the same parameters the
// same way. (The policy source is masked by RedactedSource, and check
// errors never quote a secret value.) The copy is for showing only:
// TaskRouter must get the original. The receiver is not modified, so a
// decision's shared Instruction stays intact.
func (in Instruction) Redacted() Instruction {
	params := make([]Param, len(in.Params))
	for i, p := range in.Params {
		if IsSecretParam(in.Name, p.Name) {
			p.Value = RedactedValue
		}
		params[i] = p
	}
	return Instruction{Name: in.Name, Params: params}
}

// ParamMap returns the parameters keyed by name, for structured logs and
// JSON output; call it on Redacted() for anything people may read.
func (in Instruction) ParamMap() map[string]any {
	m := make(map[string]any, len(in.Params))
	for _, p := range in.Params {
		m[p.Name] = p.Value
	}
	return m
}

// Decision is the outcome of one Decide: the rule that won and what it says.
type Decision struct {
	// Rule is the winning rule's name; RuleIndex its 0-based position.
	Rule      string
	RuleIndex int
	// Mode is Respond or Update, never Auto.
	Mode Mode
	// Instruction holds the rendered, typed parameters.
	Instruction Instruction
	// JSON is the callback reply body for Respond mode, with the exact keys
	// of Twilio's assignment-callback documentation. It is nil in Update mode,
	// whose reply body is empty.
	JSON []byte
	// Skipped lists the rules that matched but could not be used (a template
	// that could not render, a rendered value that failed its check), in
	// order. Every rule before RuleIndex that is not listed did not match.
	Skipped []Skip
	// Experiments records the experiments whose experiment.NAME some
	// condition evaluated on the way to this decision, and their arms,
	// whichever rule then won; a decision that never reached the reference
	// is not in the experiment.
	Experiments experiment.Arms
}

// Skip records a rule that matched but was passed over.
type Skip struct {
	Rule string `json:"rule"`
	// Index is the rule's 0-based position, as Decision.RuleIndex.
	Index int `json:"index"`
	// Reason is a short label for metrics: "render" when a template's value
	// was missing or of the wrong type, "invalid" when the rendered value
	// failed its parameter's check.
	Reason string `json:"reason"`
	// Detail says which parameter and why, for logs and explain.
	Detail string `json:"detail"`
}
