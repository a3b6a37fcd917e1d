package outcome

// Outcome is what became of a reservation, as a reservation event says.
type Outcome string

// The outcomes counted: the reservation events whose EventType is
// "reservation." followed by the outcome.
const (
	Accepted  Outcome = "accepted"
	Rejected  Outcome = "rejected"
	Timeout   Outcome = "timeout"
	Canceled  Outcome = "canceled"
	Rescinded Outcome = "rescinded"
	Completed Outcome = "completed"
	Wrapup    Outcome = "wrapup"
)

// Outcomes lists every Outcome, in the order a reservation meets them.
var Outcomes = []Outcome{Accepted, Rejected, Timeout, Canceled, Rescinded, Wrapup, Completed}

// Source says how an event's reservation was attributed to a rule.
type Source string

const (
	// Remembered: this process decided the reservation and still had it
	// in memory.
	Remembered Source = "remembered"
	// Recomputed: another replica decided it, or this one forgot it, so the
	// running policy decided again from the event's own fields.
	Recomputed Source = "recomputed"
)

// OtherType is the assignd_events_total label of an EventType that the
// TaskRouter Events reference does not list.
const OtherType = "other"

// EventTypes are the EventType values the TaskRouter Events reference
// lists. They are the only values assignd_events_total has as labels, so
// that a sender cannot grow the label set.
var EventTypes = []string{
	"activity.created", "activity.updated", "activity.deleted",
	"reservation.created", "reservation.accepted", "reservation.rejected",
	"reservation.timeout", "reservation.canceled", "reservation.rescinded",
	"reservation.completed", "reservation.failed", "reservation.wrapup",
	"task.created", "task.updated", "task.canceled", "task.wrapup",
	"task.completed", "task.deleted", "task.system-deleted",
	"task.transfer-initiated", "task.transfer-attempt-failed",
	"task.transfer-failed", "task.transfer-canceled", "task.transfer-completed",
	"task-channel.created", "task-channel.updated", "task-channel.deleted",
	"task-queue.created", "task-queue.deleted", "task-queue.entered",
	"task-queue.timeout", "task-queue.moved", "task-queue.expression.updated",
	"worker.created", "worker.activity.update", "worker.attributes.update",
	"worker.capacity.update", "worker.channel.availability.update", "worker.deleted",
	"workflow.target-matched", "workflow.entered", "workflow.timeout",
	"workflow.skipped", "workflow.created", "workflow.updated", "workflow.deleted",
	"workspace.created", "workspace.updated", "workspace.deleted",
}

// reservationPrefix starts every reservation EventType.
const reservationPrefix = "reservation."

// Parse returns the Outcome of a reservation event's EventType, and false
// for any other EventType, reservation.created and reservation.failed
// included: neither says what an agent did with an offer.
func Parse(eventType []byte) (Outcome, bool) {
	if len(eventType) <= len(reservationPrefix) || string(eventType[:len(reservationPrefix)]) != reservationPrefix {
		return "", false
	}
	for _, o := range Outcomes {
		if string(eventType[len(reservationPrefix):]) == string(o) {
			return o, true
		}
	}
	return "", false
}
