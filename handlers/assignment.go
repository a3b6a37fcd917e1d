package handlers

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/internal/httpserver"
	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/reservation"
)

// formContentType is the only body TaskRouter sends.
const formContentType = "application/x-www-form-urlencoded"

// assignment answers one assignment callback, after readSigned's checks.
// Every answer other than 200 sends the reservation to the Workflow's
// fallback URL.
func (s *Server) assignment(c echo.Context, sc *callback.Form, received time.Time) error {
	// The policy is read before the fields because it says which
	// attributes to decode; a callback without one still gets its 400.
	pol := s.store.Current()
	fields := sc.Fields()
	if s.verify != nil {
		if err := callback.CheckRecut(fields, callback.AssignmentFields); err != nil {
			return s.malformed(c, "malformed callback", err, fields)
		}
	}
	reads, shadow := s.readsFor(pol)
	cb, err := callback.ParseFields(fields, reads)
	if err != nil {
		return s.malformed(c, "malformed callback", err, fields)
	}

	if pol == nil {
		s.log.Error("callback before any policy is loaded", zap.String("reservation_sid", cb.ReservationSid))
		return s.reject(c, http.StatusServiceUnavailable, "no policy loaded", "")
	}
	if s.beforeDecide != nil {
		s.beforeDecide()
	}
	in := s.input(cb, received)
	start := time.Now()
	d := pol.Decide(in)
	took := time.Since(start)
	s.metrics.decisionDuration.Observe(took.Seconds())
	first := s.remember(cb, &d, pol, received)
	if first {
		s.metrics.observeDecision(&d)
	}
	s.logDecision(cb, &d, pol.Hash(), received, took)

	err = s.answer(c, cb, &d, received)
	if s.afterDecision != nil {
		s.afterDecision(&callback.Decided{Callback: cb, Input: in, Policy: pol, Shadow: shadow, Decision: &d, Received: received, Took: took, Repeat: !first})
	}
	return err
}

// remember keeps the decision in the decision memory, for the events of
// its reservation, and reports whether it is the reservation's first: a
// replayed callback, or a retry through the fallback URL, is answered like
// any other but counted once. Without an events endpoint every decision
// is a first.
func (s *Server) remember(cb *callback.Callback, d *policy.Decision, pol *policy.Policy, received time.Time) bool {
	if s.outcomes == nil {
		return true
	}
	return s.outcomes.Remember(cb.ReservationSid, outcome.Entry{
		Rule:        d.Rule,
		Instruction: d.Instruction.Name,
		Mode:        string(d.Mode),
		PolicyHash:  pol.Hash(),
		Decided:     received,
		Experiments: d.Experiments,
	})
}

// signedForm wraps a handler of TaskRouter's signed forms: it reads the
// clock first, since deadlines count from arrival, takes the request's
// working memory from the pool, and calls h only once readSigned has
// passed the request.
func (s *Server) signedForm(h func(c echo.Context, sc *callback.Form, received time.Time) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		received := s.now()
		sc := s.forms.Get()
		defer s.forms.Put(sc)
		if ok, err := s.readSigned(c, sc); !ok {
			return err
		}
		return h(c, sc, received)
	}
}

// readSigned is the edge every TaskRouter request passes, assignment
// callbacks and event callbacks alike: a POST of a form within the limits,
// read into sc and signed by one of the auth tokens. If the request fails
// any check, readSigned answers it and returns false and the error of
// answering it.
//
// The checks run cheapest and least trusting first: nothing from the body
// is believed before the signature is checked, and the signature cannot be
// checked before the body is read as a form.
func (s *Server) readSigned(c echo.Context, sc *callback.Form) (bool, error) {
	r := c.Request()
	if r.Method != http.MethodPost {
		c.Response().Header().Set(echo.HeaderAllow, http.MethodPost)
		return false, s.refuse(c, http.StatusMethodNotAllowed, "method not allowed: use POST", "")
	}
	// TaskRouter's exact Content-Type needs no parsing.
	if ct := r.Header.Get(echo.HeaderContentType); ct != formContentType && !isFormType(ct) {
		return false, s.refuse(c, http.StatusUnsupportedMediaType, "content type must be "+formContentType, "")
	}
	if ok, err := s.readForm(c, sc); !ok {
		return false, err
	}
	if s.verify != nil && !s.verify.Valid(sc, r.Header.Get(callback.SignatureHeader)) {
		s.metrics.signatureFailures.Inc()
		if s.warnLimit.Allow() {
			s.log.Warn("invalid signature",
				zap.String("path", r.URL.Path),
				zap.String("url", callback.TruncateBytes(sc.SignedURL(), maxLoggedURL)),
				zap.Bool("signature_present", r.Header.Get(callback.SignatureHeader) != ""),
				zap.String("remote_addr", r.RemoteAddr),
				zap.String("reservation_sid", callback.TruncateBytes(sc.Get("ReservationSid"), 40)))
		}
		return false, s.reject(c, http.StatusForbidden, "invalid signature", "")
	}
	return true, nil
}

// malformed answers a signed request whose fields callback.ParseFields refused:
// a 400 naming the field. The request is signed, so this is TaskRouter (or
// a replay of it) sending something we cannot read: worth a warning every
// time.
func (s *Server) malformed(c echo.Context, msg string, err error, fields map[string]string) error {
	var fe *callback.FieldError
	if !errors.As(err, &fe) {
		fe = &callback.FieldError{Problem: err.Error()}
	}
	s.log.Warn(msg,
		zap.String("field", fe.Field),
		zap.String("problem", fe.Problem),
		zap.String("reservation_sid", callback.Truncate(fields["ReservationSid"], 40)))
	return s.reject(c, http.StatusBadRequest, fe.Error(), fe.Field)
}

// answer writes the decision: the instruction JSON in respond mode, or in
// update mode an empty 200 once the update is queued.
func (s *Server) answer(c echo.Context, cb *callback.Callback, d *policy.Decision, received time.Time) error {
	if d.Mode == policy.Update {
		return s.handOff(c, cb, d, received)
	}
	if len(d.JSON) == 0 {
		s.log.Error("respond-mode decision without a body", zap.String("rule", d.Rule), zap.String("reservation_sid", cb.ReservationSid))
		return s.reject(c, http.StatusInternalServerError, "internal error", "")
	}
	return s.writeReply(c, d.JSON)
}

// handOff answers an update-mode decision: the reservation update goes to the
// REST updater and TaskRouter gets an empty 200, which tells it to wait for
// that update.
func (s *Server) handOff(c echo.Context, cb *callback.Callback, d *policy.Decision, received time.Time) error {
	if s.enqueue == nil {
		s.log.Error("update-mode decision but no REST updater is configured",
			zap.String("rule", d.Rule), zap.String("reservation_sid", cb.ReservationSid))
		return s.reject(c, http.StatusServiceUnavailable, "no updater configured", "")
	}
	// The SIDs are cloned: the callback's fields share one string, the
	// whole form, which a queued update should not keep alive.
	err := s.enqueue(reservation.Update{
		AccountSid:     strings.Clone(cb.AccountSid),
		WorkspaceSid:   strings.Clone(cb.WorkspaceSid),
		WorkerSid:      strings.Clone(cb.WorkerSid),
		TaskSid:        strings.Clone(cb.TaskSid),
		ReservationSid: strings.Clone(cb.ReservationSid),
		Rule:           d.Rule,
		Instruction:    detached(d.Instruction),
		Received:       received,
	})
	switch {
	case err == nil:
	case errors.Is(err, reservation.ErrDuplicate):
		// A retry through the fallback URL, or a replay: the first one
		// already owns the update.
		s.log.Info("update already queued", zap.String("reservation_sid", cb.ReservationSid))
	case errors.Is(err, reservation.ErrQueueFull):
		s.log.Error("update queue is full", zap.String("reservation_sid", cb.ReservationSid))
		return s.reject(c, http.StatusServiceUnavailable, "update queue is full", "")
	default:
		s.log.Error("enqueueing update", zap.String("reservation_sid", cb.ReservationSid), zap.Error(err))
		return s.reject(c, http.StatusInternalServerError, "internal error", "")
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	return c.NoContent(http.StatusOK)
}

// logDecision writes the one info line per decided callback; attributes and
// instruction parameters, which may hold phone numbers, only at debug. The
// debug "callback detail" line carries every form field and the arrival
// time, so that "assignd replay" can rebuild the callback from it.
func (s *Server) logDecision(cb *callback.Callback, d *policy.Decision, hash string, received time.Time, took time.Duration) {
	s.log.Info("callback decided",
		zap.String("reservation_sid", cb.ReservationSid),
		zap.String("task_sid", cb.TaskSid),
		zap.String("worker_sid", cb.WorkerSid),
		zap.String("rule", d.Rule),
		zap.String("instruction", d.Instruction.Name),
		zap.String("mode", string(d.Mode)),
		zap.Float64("decision_seconds", took.Seconds()),
		zap.String("policy_hash", hash),
		zap.Int("skipped", len(d.Skipped)))
	for _, sk := range d.Skipped {
		s.log.Warn("rule matched but was skipped",
			zap.String("reservation_sid", cb.ReservationSid),
			zap.String("rule", sk.Rule),
			zap.String("reason", sk.Reason))
		s.log.Debug("skipped rule detail",
			zap.String("reservation_sid", cb.ReservationSid),
			zap.String("rule", sk.Rule),
			zap.String("detail", sk.Detail))
	}
	if ce := s.log.Check(zap.DebugLevel, callback.DetailMessage); ce != nil {
		dt := detailOf(cb, d.Instruction)
		ce.Write(
			zap.String("reservation_sid", cb.ReservationSid),
			zap.Time("received", received),
			zap.String("rule", d.Rule),
			zap.Any("task_attributes", dt.task),
			zap.Any("worker_attributes", dt.worker),
			zap.Any("params", d.Instruction.Redacted().ParamMap()),
			zap.Any("fields", dt.fields))
	}
}

// refuse answers a request refused before its signature was checked. Anyone
// can send one, so its warning is rate-limited.
func (s *Server) refuse(c echo.Context, code int, msg, field string) error {
	if s.warnLimit.Allow() {
		s.log.Warn("callback refused",
			zap.Int("status", code),
			zap.String("problem", msg),
			zap.String("field", callback.Truncate(field, 64)),
			zap.String("remote_addr", c.Request().RemoteAddr))
	}
	return s.reject(c, code, msg, field)
}

// reject answers a refused request with code and a JSON error body, and
// closes the connection after it: a client that is refused gets no idle
// keep-alive connection to hold, so refused requests cannot keep the
// listener's connection slots from TaskRouter.
func (s *Server) reject(c echo.Context, code int, msg, field string) error {
	c.Response().Header()["Connection"] = connectionClose
	return httpserver.WriteError(c, code, msg, field)
}

// connectionClose is the Connection header value of every refusal.
var connectionClose = []string{"close"}

// observe counts and times every request on the callback listener but
// event callbacks, which assignd_events_total counts. It settles errors
// here, rather than leaving them to Echo, so that the status it records is
// the one sent.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Response().Header()["Connection"] = connectionClose
			c.Error(err)
		}
		if c.Path() == EventsPath {
			if code := c.Response().Status; code >= http.StatusBadRequest {
				s.metrics.eventRefused(code)
			}
			return nil
		}
		s.metrics.answered(c.Response().Status)
		s.metrics.callbackDuration.Observe(time.Since(start).Seconds())
		return nil
	}
}

// detached copies an instruction's parameters for the update queue. A
// parameter rendered from an attribute may share the memory of the whole
// form, which a queued update should not keep alive, as with the SIDs.
func detached(in policy.Instruction) policy.Instruction {
	params := make([]policy.Param, len(in.Params))
	for i, p := range in.Params {
		switch v := p.Value.(type) {
		case string:
			p.Value = strings.Clone(v)
		case []string:
			items := make([]string, len(v))
			for j, item := range v {
				items[j] = strings.Clone(item)
			}
			p.Value = items
		}
		params[i] = p
	}
	in.Params = params
	return in
}
