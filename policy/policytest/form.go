package policytest

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/policy"
)

// placeholderSID fills the SIDs a hand-written case leaves out; any
// well-formed SID will do, since only the policy reads them.
const placeholderSID = "00000000000000000000000000000000"

// PlaceholderForm returns the form of a callback with the given
// TaskAttributes and WorkerAttributes (JSON objects) and well-formed
// placeholder SIDs, as explain -task and a test case's task and worker build
// it.
func PlaceholderForm(task, worker string) url.Values {
	return url.Values{
		"AccountSid": {"AC" + placeholderSID}, "WorkspaceSid": {"WS" + placeholderSID}, "WorkflowSid": {"WW" + placeholderSID},
		"TaskQueueSid": {"WQ" + placeholderSID}, "TaskSid": {"WT" + placeholderSID}, "WorkerSid": {"WK" + placeholderSID},
		"ReservationSid": {"WR" + placeholderSID}, "TaskAge": {"0"}, "TaskPriority": {"0"},
		"TaskAttributes": {task}, "WorkerAttributes": {worker},
	}
}

// ParseForm reads a captured callback body, form-encoded as TaskRouter
// POSTs it; surrounding white space, such as a final newline, is ignored.
func ParseForm(body []byte) (url.Values, error) {
	form, err := url.ParseQuery(strings.TrimSpace(string(body)))
	if err != nil {
		return nil, fmt.Errorf("not a form-encoded body: %w", err)
	}
	return form, nil
}

// Input parses a callback form with handlers.ParseCallback, as the callback
// handler does, and returns what Decide sees of it at now.
func Input(form url.Values, now time.Time) (*policy.Input, error) {
	cb, err := handlers.ParseCallback(form)
	if err != nil {
		return nil, fmt.Errorf("malformed callback: %w", err)
	}
	return cb.Input(now), nil
}
