package callback

import "strings"

// AssignmentFields are the fields TaskRouter sends on every assignment
// callback, the parameters its Assignment Callback reference documents.
// The signed callback listener requires all of them: see CheckRecut.
var AssignmentFields = []string{
	"AccountSid", "ReservationSid", "TaskAge", "TaskAttributes", "TaskPriority", "TaskQueueSid",
	"TaskSid", "Timestamp", "WorkerAttributes", "WorkerSid", "WorkflowSid", "WorkspaceSid",
}

// prefixGuarded are the documented fields a policy decides on, whose
// names no other field may extend. Timestamp is not among them: TaskRouter
// itself sends TimestampMs, and a policy has no use for Timestamp's opaque
// value.
var prefixGuarded = []string{
	"AccountSid", "ReservationSid", "TaskAge", "TaskAttributes", "TaskPriority", "TaskQueueSid",
	"TaskSid", "WorkerAttributes", "WorkerSid", "WorkflowSid", "WorkspaceSid",
}

// CheckRecut refuses a signed form that may have been re-cut from another.
// TaskRouter's signature covers the concatenation of the sorted names and
// values, so "TaskAge=75" and "TaskAge7=5" sign alike: a genuine callback
// can be re-cut into one whose known fields are missing or moved into
// fields of longer names. CheckRecut refuses, as a *FieldError, a field
// whose name extends a prefixGuarded name (TaskAge7, TaskPriority1) and,
// when required is given, the first of required that is absent. Other
// undocumented fields (WorkerName, TimestampMs) pass.
func CheckRecut(fields map[string]string, required []string) error {
	for name := range fields {
		for _, known := range prefixGuarded {
			if len(name) > len(known) && strings.HasPrefix(name, known) {
				return &FieldError{Field: name, Problem: "extends the name of " + known + ", which TaskRouter sends; a form so cut may be another callback's signature re-cut"}
			}
		}
	}
	for _, name := range required {
		if _, ok := fields[name]; !ok {
			return &FieldError{Field: name, Problem: "is required"}
		}
	}
	return nil
}
