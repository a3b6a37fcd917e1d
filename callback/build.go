package callback

import (
	"bytes"
	"errors"
	"net/url"
)

// Spec describes a callback to build for a person's question rather than
// for TaskRouter: a captured body, or task and worker attributes with
// placeholder SIDs, and fields set on top. Explain (command and API),
// policy tests and replay all build their callbacks with it, so that a
// hand-written callback and a captured one are read alike.
type Spec struct {
	// Captured is a captured callback body, form-encoded as TaskRouter
	// POSTs it; nil means none. A line end a file or a terminal adds is
	// dropped: TaskRouter never sends one.
	Captured []byte
	// Task and Worker are the attribute objects as JSON, as TaskRouter
	// sends them, for a callback without a capture, passed as given.
	Task, Worker string
	// Set are form fields set on top, in order.
	Set []Field
}

// Field is one form field.
type Field struct{ Name, Value string }

// ErrEmptyFieldName is Form's refusal of a Set field without a name.
var ErrEmptyFieldName = errors.New("a field name is empty")

// placeholderSid fills the SIDs a hand-written callback leaves out; any
// well-formed SID will do, since only the policy reads them.
const placeholderSid = "00000000000000000000000000000000"

// Form returns the callback form s describes. A captured body goes through
// ParseForm, serve's parser with its limits, and its error is returned as
// ParseForm gives it.
func (s Spec) Form() (url.Values, error) {
	var form url.Values
	if s.Captured != nil {
		var err error
		if form, err = ParseForm(bytes.TrimRight(s.Captured, "\r\n")); err != nil {
			return nil, err
		}
	} else {
		form = url.Values{
			"AccountSid": {"AC" + placeholderSid}, "WorkspaceSid": {"WS" + placeholderSid}, "WorkflowSid": {"WW" + placeholderSid},
			"TaskQueueSid": {"WQ" + placeholderSid}, "TaskSid": {"WT" + placeholderSid}, "WorkerSid": {"WK" + placeholderSid},
			"ReservationSid": {"WR" + placeholderSid}, "TaskAge": {"0"}, "TaskPriority": {"0"},
			"TaskAttributes": {s.Task}, "WorkerAttributes": {s.Worker},
		}
	}
	for _, f := range s.Set {
		if f.Name == "" {
			return nil, ErrEmptyFieldName
		}
		form.Set(f.Name, f.Value)
	}
	return form, nil
}
