package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/outcome"
)

// EventsPath is where TaskRouter POSTs the Workspace's event callbacks
// (its EventCallbackUrl), below the service root.
const EventsPath = "/taskrouter/events"

// event answers one TaskRouter event callback: 204 with Content-Type
// application/json, as the Events reference asks, once the event is
// counted. The edge is the assignment callback's (signedForm).
//
// Only the reservation outcomes are read further: their fields are the
// assignment callback's, checked by the same parser, and a malformed one is
// a 400 naming the field. The outcome is attributed to the rule that
// decided the reservation, remembered if this process decided it, else
// decided again with the running policy from the event's own fields.
func (s *Server) event(c echo.Context, sc *callback.Form, received time.Time) error {
	eventType := sc.Get("EventType")
	if len(eventType) == 0 {
		return s.reject(c, http.StatusBadRequest, "EventType: is required", "EventType")
	}
	o, isOutcome := outcome.Parse(eventType)
	if !isOutcome {
		// Counted by type and nothing else: the Workspace's EventsFilter
		// should keep these away.
		s.outcomes.CountEvent(eventType, sc.Get("Sid"))
		return s.noContent(c)
	}
	pol := s.store.Current()
	fields := sc.Fields()
	if s.verify != nil {
		if err := callback.CheckRecut(fields, nil); err != nil {
			return s.malformed(c, "malformed event", err, fields)
		}
	}
	reads, _ := s.readsFor(pol)
	cb, err := callback.ParseFields(fields, reads)
	if err != nil {
		return s.malformed(c, "malformed event", err, fields)
	}
	if !s.outcomes.CountEvent(eventType, sc.Get("Sid")) {
		// Re-sent by TaskRouter, or replayed: its outcome is counted.
		return s.noContent(c)
	}
	if e, ok := s.outcomes.Lookup(cb.ReservationSid); ok {
		s.outcomes.Record(o, e.Rule, e.Instruction, outcome.Remembered, received.Sub(e.Decided))
		if s.afterEvent != nil {
			s.afterEvent(&Event{Callback: cb, Outcome: o, Rule: e.Rule, Instruction: e.Instruction,
				Source: outcome.Remembered, Experiments: &e.Experiments, Received: received})
		}
		return s.noContent(c)
	}
	if pol == nil {
		s.log.Error("event before any policy is loaded", zap.String("reservation_sid", cb.ReservationSid))
		return s.reject(c, http.StatusServiceUnavailable, "no policy loaded", "")
	}
	// Another replica decided this reservation, or this process forgot
	// it: decide again. The event carries the task and worker as they are
	// now, so a rule that reads TaskAge or attributes that changed since may
	// differ from the one that decided.
	d := pol.Decide(s.input(cb, received))
	s.outcomes.Record(o, d.Rule, d.Instruction.Name, outcome.Recomputed, 0)
	if s.afterEvent != nil {
		s.afterEvent(&Event{Callback: cb, Outcome: o, Rule: d.Rule, Instruction: d.Instruction.Name,
			Source: outcome.Recomputed, Experiments: &d.Experiments, Received: received})
	}
	return s.noContent(c)
}

// noContent is the answer to every accepted event callback.
func (s *Server) noContent(c echo.Context) error {
	c.Response().Header()[echo.HeaderContentType] = s.replyType
	return c.NoContent(http.StatusNoContent)
}
