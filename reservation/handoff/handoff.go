// Package handoff is what the callback edge hands the REST updater: one
// update-mode decision, and the two ways the updater can refuse it. It is
// a leaf of its own so that the inbound edge (package handlers) depends on
// this contract and not on the updater, which brings twilio-go's REST
// client with it.
package handoff

import (
	"errors"
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

// Errors the updater's Enqueue returns.
var (
	// ErrQueueFull means the update could not be queued; the callback gets a
	// 503 so that TaskRouter tries the Workflow's fallback URL.
	ErrQueueFull = errors.New("update queue is full")
	// ErrDuplicate means an update for the same reservation is already
	// queued, in flight or applied; the callback is answered without a second POST.
	ErrDuplicate = errors.New("update for this reservation already queued or applied")
)
