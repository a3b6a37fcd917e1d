// Package handlers is the callback listener: the assignment and event
// callbacks TaskRouter POSTs, and their metrics. The callback format lives
// in package callback; update-mode decisions go to an Enqueue function,
// which package app points at the reservation queue. The admin listener is
// package admin, so that the admin port never has to be on the ingress.
package handlers

import (
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/internal/httpserver"
	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/policy/calendar"
	"github.com/assignd/assignd/reservation"
)

// AssignmentPath is where TaskRouter POSTs assignment callbacks, below the
// service root (after an ingress has stripped any path prefix).
const AssignmentPath = "/taskrouter/assignment"

// Options are what New needs. Store, Config and Registerer are required.
type Options struct {
	// Store holds the current policy; callbacks get 503 until it has one.
	Store *policy.Store
	// ShadowStore holds the shadow policy, when there is one: callbacks
	// then decode every attribute either policy reads.
	ShadowStore *policy.Store
	// Config is the process environment: tokens, public base URL, dev mode.
	// It must have passed config.Check: outside development mode a Server
	// built without an auth token refuses every callback's signature.
	Config *config.Config
	// Logger is the parent logger; nil logs nothing.
	Logger *zap.Logger
	// Registerer takes the listener's metrics.
	Registerer prometheus.Registerer
	// Enqueue hands an update-mode decision to the REST updater. Nil means
	// no updater: update-mode callbacks then get 503 so that TaskRouter
	// tries the fallback URL.
	Enqueue func(reservation.Update) error
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// AfterDecision, when set, is called for every decided callback after
	// its answer has been written, on the callback's goroutine: observers
	// (shadow evaluation, the decision memory, the console's recent
	// decisions) can never change or delay what TaskRouter is told. It must
	// be quick and must not keep the pointers it is given.
	AfterDecision func(*callback.Decided)
	// Outcomes, when set, serves POST /taskrouter/events, which counts the
	// reservation outcomes TaskRouter's event callbacks report, by the rule
	// that decided each. Remembering decisions is an AfterDecision
	// observer's job.
	Outcomes *outcome.Tracker
	// BeforeDecide, when set, runs after a callback is parsed and before
	// the policy decides: a test seam to hold a callback in flight.
	BeforeDecide func()
	// Overrides, when set, returns the calendar overrides in force; every
	// policy.Input the listener builds carries them, so that the shadow and
	// a recomputed event decision see what the answer saw.
	Overrides func() *calendar.Overrides
	// AfterEvent, when set, is called for every reservation outcome an
	// event callback reported, after it is counted by rule, on the event's
	// goroutine, under AfterDecision's rules: quick, no pointers kept.
	AfterEvent func(*Event)
}

// Server answers assignment and event callbacks.
type Server struct {
	store       *policy.Store
	shadowStore *policy.Store
	enqueue     func(reservation.Update) error
	now         func() time.Time
	// verify is nil in development mode, which skips signature checks.
	verify  *callback.Verifier
	metrics *metrics

	log *zap.Logger
	// warnLimit rate-limits the warn logs that anyone can trigger without a
	// valid signature, so that a flood cannot storm the logs. The metrics
	// still count every request.
	warnLimit *rate.Limiter

	beforeDecide  func()
	afterDecision func(*callback.Decided)
	// outcomes is nil without an events endpoint.
	outcomes *outcome.Tracker
	// overrides and afterEvent are Options' (nil when unset).
	overrides  func() *calendar.Overrides
	afterEvent func(*Event)
	// forms holds the callback handler's per-request working memory.
	forms callback.FormPool
	// reads caches what the current policy reads (see readsFor).
	reads atomic.Pointer[policyReads]
	// replyType is the Content-Type header value of every 200 reply.
	replyType []string

	echo *echo.Echo
}

// New builds a Server from opts.
func New(opts Options) (*Server, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("handlers.New: no policy store")
	case opts.Config == nil:
		return nil, errors.New("handlers.New: no config")
	case opts.Registerer == nil:
		return nil, errors.New("handlers.New: no prometheus registerer")
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{
		store:         opts.Store,
		shadowStore:   opts.ShadowStore,
		enqueue:       opts.Enqueue,
		now:           now,
		metrics:       m,
		log:           log.Named("callback"),
		warnLimit:     rate.NewLimiter(rate.Every(time.Second), 5),
		beforeDecide:  opts.BeforeDecide,
		afterDecision: opts.AfterDecision,
		outcomes:      opts.Outcomes,
		overrides:     opts.Overrides,
		afterEvent:    opts.AfterEvent,
		replyType:     []string{echo.MIMEApplicationJSON},
	}
	cfg := opts.Config
	if !cfg.Dev {
		s.verify = callback.NewVerifier(cfg.PublicBaseURL, cfg.TrustForwarded, cfg.AuthToken, cfg.AuthTokenSecondary)
	}

	// The handlers are wrapped once here, not with Use: Echo applies Use's
	// middleware on every request, two closures per callback. Every other
	// path is a 404 through the same wrapping, so that it is counted and
	// timed too.
	s.echo = httpserver.NewEcho(s.log, AssignmentPath, EventsPath)
	wrap := func(h echo.HandlerFunc) echo.HandlerFunc { return s.observe(httpserver.Recoverer(s.log)(h)) }
	s.echo.Any(AssignmentPath, wrap(s.signedForm(s.assignment)))
	if s.outcomes != nil {
		s.echo.Any(EventsPath, wrap(s.signedForm(s.event)))
	}
	s.echo.RouteNotFound("/*", wrap(func(echo.Context) error { return echo.ErrNotFound }))
	return s, nil
}

// Handler is the handler for the callback listener, the one TaskRouter
// reaches through the ingress.
func (s *Server) Handler() http.Handler { return s.echo }
