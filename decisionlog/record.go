package decisionlog

import (
	"time"

	"github.com/assignd/assignd/policy"
)

// Version is the record format's version, the v of every record.
const Version = 1

// The record kinds.
const (
	// KindDecision is one decided assignment callback.
	KindDecision = "decision"
	// KindOutcome is what became of a decided reservation, from its event.
	KindOutcome = "outcome"
)

// Input is one decided callback as the callback path hands it over: the
// pointers it already holds, copied into a value so that handing it over
// allocates nothing. Nothing it points to may be modified afterwards; the
// callback path never does, since Decide is pure and an Input is built per
// callback.
type Input struct {
	// Policy decided In; Decision is what it decided.
	Policy   *policy.Policy
	Decision *policy.Decision
	// In is what Policy decided on: the attribute keys and callback fields
	// it reads (a projection may hold more, such as a shadow policy's
	// reads, which the record leaves out) and the instant.
	In *policy.Input
	// The SIDs of the callback.
	ReservationSid, TaskSid, WorkerSid, WorkspaceSid, WorkflowSid string
}

// Outcome is one reservation event for a decided reservation, as the event
// callback sees it.
type Outcome struct {
	ReservationSid, TaskSid, WorkerSid, WorkspaceSid string
	// EventType is TaskRouter's, e.g. "reservation.accepted".
	EventType string
	// Rule and Instruction are those the reservation is attributed to;
	// Source says how ("remembered" or "recomputed").
	Rule, Instruction, Source string
	// Received is when the event arrived.
	Received time.Time
}

// Record is one line of the decision log. A decision record fills the
// decision fields, an outcome record the outcome fields; V and Kind come
// first, so that a reader can tell a decision log by its first bytes.
type Record struct {
	V    int    `json:"v"`
	Kind string `json:"kind"`
	// Time is when the callback or event arrived, in UTC.
	Time           time.Time `json:"time"`
	ReservationSid string    `json:"reservation_sid"`
	TaskSid        string    `json:"task_sid,omitempty"`
	WorkerSid      string    `json:"worker_sid,omitempty"`
	WorkspaceSid   string    `json:"workspace_sid,omitempty"`
	WorkflowSid    string    `json:"workflow_sid,omitempty"`

	// PolicyHash is the deciding policy's Hash.
	PolicyHash  string `json:"policy_hash,omitempty"`
	Rule        string `json:"rule"`
	Instruction string `json:"instruction"`
	Mode        string `json:"mode,omitempty"`
	// Params are the instruction's parameters, secrets redacted and
	// masked values replaced as in Inputs.
	Params map[string]any `json:"params,omitempty"`
	// Trace holds, for each rule in order, whether it matched, did not
	// match (and which part was false), was skipped (and why), or was not
	// tried.
	Trace []policy.Step `json:"trace,omitempty"`
	// Reads are the keys the policy reads; Inputs their values.
	Reads  *Reads  `json:"reads,omitempty"`
	Inputs *Inputs `json:"inputs,omitempty"`
	// Masked and Dropped name the paths whose values were masked or left
	// out of this record, sorted.
	Masked  []string `json:"masked,omitempty"`
	Dropped []string `json:"dropped,omitempty"`

	// EventType and Source are an outcome record's (see Outcome).
	EventType string `json:"event_type,omitempty"`
	Source    string `json:"source,omitempty"`
}

// Reads are the top-level keys of each document the deciding policy reads,
// as policy.Reads. All is set when it reads whole documents; Inputs then
// hold them whole.
type Reads struct {
	Task     []string `json:"task"`
	Worker   []string `json:"worker"`
	Callback []string `json:"callback"`
	All      bool     `json:"all,omitempty"`
}

// Inputs are the values the policy read: a key it read that is absent from
// its document is absent here too.
type Inputs struct {
	Task     map[string]any `json:"task"`
	Worker   map[string]any `json:"worker"`
	Callback map[string]any `json:"callback"`
	// Now is the instant now.* read, in UTC.
	Now time.Time `json:"now"`
	// Calendars are the states, at Now with the overrides in force, of
	// the calendars the rules up to the deciding one read.
	Calendars []policy.CalendarStatus `json:"calendars,omitempty"`
	// Tables are the table lookups the rules made, in order: whether each
	// key found a row. The cells read are in the trace.
	Tables []TableRead `json:"tables,omitempty"`
	// Experiments are the experiments the decision evaluated, with the
	// arm of each.
	Experiments []ExperimentArm `json:"experiments,omitempty"`
}

// TableRead is one table lookup a rule made.
type TableRead struct {
	// Rule is the rule whose condition or template made the lookup.
	Rule  string `json:"rule"`
	Table string `json:"table"`
	// Ref is the reference as canonical text, such as tables.vip[task.from].
	Ref string `json:"ref"`
	Hit bool   `json:"hit"`
}

// ExperimentArm is one experiment a decision evaluated. The key itself is
// never recorded: it is rendered from inputs that may be masked.
type ExperimentArm struct {
	Experiment string `json:"experiment"`
	Arm        string `json:"arm"`
	// KeyFrom is the key template, or callback.TaskSid when the template
	// could not render; Point is the key's point in [0, 10000).
	KeyFrom string `json:"key_from"`
	Point   int    `json:"point"`
}
