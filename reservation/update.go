// Package reservation is the queue of reservation updates: an update-mode
// decision becomes an Update, which the Updater sends to TaskRouter's REST
// API through a Send function (package reservation/twilio's, in
// production) with retries, deadlines and backoff, counted in metrics.
// What it queues it copies, so that a queued update never keeps a
// callback's memory alive.
package reservation

import (
	"errors"
	"fmt"
	"time"

	"github.com/assignd/assignd/policy"
)

// Update is one reservation update for the updater to send over REST.
type Update struct {
	AccountSid     string
	WorkspaceSid   string
	WorkerSid      string
	TaskSid        string
	ReservationSid string
	// Rule is the policy rule that decided, for logs and metrics.
	Rule        string
	Instruction policy.Instruction
	// Received is when the callback arrived. The deadline is derived from it
	// and the reservation timeout, never from TaskRouter's Timestamp field,
	// whose format is undocumented.
	Received time.Time
}

// Errors Enqueue returns.
var (
	// ErrQueueFull means the update could not be queued; the callback gets a
	// 503 so that TaskRouter tries the Workflow's fallback URL.
	ErrQueueFull = errors.New("update queue is full")
	// ErrDuplicate means an update for the same reservation is already
	// queued, in flight or applied; the callback is answered without a second POST.
	ErrDuplicate = errors.New("update for this reservation already queued or applied")
)

// ErrInvalid marks an update that cannot be expressed as a REST request: a
// bug in the policy's parameter set, which no retry can mend. Send wraps
// it; the updater counts such an update rejected without retrying.
var ErrInvalid = errors.New("invalid reservation update")

// RESTError is a reservation update that reached TaskRouter and came back
// with an HTTP error. The updater classifies it by Status; Code and Message
// are Twilio's, for the log line.
type RESTError struct {
	// Status is the HTTP status TaskRouter answered with.
	Status int
	// Code and Message come from Twilio's error body, when it had one.
	Code    int
	Message string
	// RetryAfter is the wait TaskRouter asked for with a Retry-After header;
	// zero when it sent none.
	RetryAfter time.Duration
	// Err is what twilio-go returned.
	Err error
}

// Error says what TaskRouter answered.
func (e *RESTError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("taskrouter answered %d", e.Status)
	}
	return fmt.Sprintf("taskrouter answered %d (code %d): %s", e.Status, e.Code, e.Message)
}

// Unwrap is what twilio-go returned.
func (e *RESTError) Unwrap() error { return e.Err }
