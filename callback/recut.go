package callback

import "strings"

// AssignmentFields are the fields TaskRouter sends on every assignment
// callback, the parameters its Assignment Callback reference documents.
// The signed callback listener requires all of them: see CheckRecut.
var AssignmentFields = []string{
	"AccountSid", "ReservationSid", "TaskAge", "TaskAttributes", "TaskPriority", "TaskQueueSid",
	"TaskSid", "Timestamp", "WorkerAttributes", "WorkerSid", "WorkflowSid", "WorkspaceSid",
}

// twilioExtensions are the longer names of known fields that TaskRouter
// itself sends: TimestampMs, the Timestamp in milliseconds.
var twilioExtensions = map[string]bool{"TimestampMs": true}

// CheckRecut refuses a signed form that may have been re-cut from another.
// TaskRouter's signature covers the concatenation of the sorted names and
// values, so "TaskAge=75" and "TaskAge7=5" sign alike: a genuine callback
// can be re-cut into one whose known fields are missing or moved into
// fields of other names. CheckRecut refuses, as a *FieldError, a field
// whose name extends one of AssignmentFields (TaskAge7, TaskPriority1) or
// is a shorter prefix of one (TaskAg), and, when required is given, the
// first of required that is absent. Other undocumented fields
// (WorkerName, TimestampMs) pass.
func CheckRecut(fields map[string]string, required []string) error {
	for name := range fields {
		if twilioExtensions[name] {
			continue
		}
		for _, known := range AssignmentFields {
			switch {
			case len(name) > len(known) && strings.HasPrefix(name, known):
				return &FieldError{Field: name, Problem: "extends the name of " + known + ", which TaskRouter sends: a form so cut may be a signed callback re-cut"}
			case len(name) < len(known) && strings.HasPrefix(known, name):
				return &FieldError{Field: name, Problem: "is a prefix of " + known + ", which TaskRouter sends: a form so cut may be a signed callback re-cut"}
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
