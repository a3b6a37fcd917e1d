package handlers

import (
	"time"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/policy/experiment"
)

// Event is one reservation outcome an event callback reported, attributed
// to the rule that decided the reservation, as Options.AfterEvent sees it.
// Its pointers are valid only during the call.
type Event struct {
	// Callback is the event's fields, parsed as an assignment callback's.
	Callback *callback.Callback
	Outcome  outcome.Outcome
	// Rule and Instruction are the decision's the outcome is attributed
	// to; Source says whether that decision was remembered or decided
	// again from the event.
	Rule, Instruction string
	Source            outcome.Source
	// Experiments are that decision's experiment arms.
	Experiments *experiment.Arms
	// Received is when the event arrived.
	Received time.Time
}

// EventType is TaskRouter's EventType of the outcome, such as
// "reservation.accepted".
func (e *Event) EventType() string { return "reservation." + string(e.Outcome) }

// input is the policy's view of cb at received, with the calendar
// overrides in force.
func (s *Server) input(cb *callback.Callback, received time.Time) *policy.Input {
	in := cb.Input(received)
	if s.overrides != nil {
		in.Overrides = s.overrides()
	}
	return in
}
