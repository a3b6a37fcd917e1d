// Package handlers is assignd's inbound HTTP edge: the assignment and event
// callbacks that TaskRouter calls, and the admin endpoints (health,
// readiness, metrics, policy, shadow, the console). Update-mode decisions
// go to package reservation, which carries them to TaskRouter's REST API.
//
// The callback and admin endpoints are served by two Echo instances on two
// listeners, so that the admin port never has to be on the ingress.
package handlers

import (
	"encoding/json"
	"errors"
	stdlog "log"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/time/rate"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/reservation/handoff"
)

// AssignmentPath is where TaskRouter POSTs assignment callbacks, below the
// service root (after an ingress has stripped any path prefix).
const AssignmentPath = "/taskrouter/assignment"

// Timeouts for both listeners, so that slow or idle clients cannot pin
// connections. TaskRouter gives up on a callback after 5 s, so nothing
// legitimate needs more than these.
const (
	// ReadHeaderTimeout bounds reading the request line and headers.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds reading the whole request, body included.
	ReadTimeout = 10 * time.Second
	// WriteTimeout bounds the time from the end of the request headers to the
	// end of the response.
	WriteTimeout = 10 * time.Second
	// IdleTimeout bounds how long a keep-alive connection may wait for its
	// next request.
	IdleTimeout = 60 * time.Second
)

// Options are what New needs. Store, Config and Registerer are required.
type Options struct {
	// Store holds the current policy; callbacks get 503 until it has one.
	Store *policy.Store
	// Config is the process environment: tokens, public base URL, dev mode.
	// It must have passed config.Check: outside development mode a Server
	// built without an auth token refuses every callback's signature.
	Config *config.Config
	// Logger is the parent logger; nil logs nothing.
	Logger *zap.Logger
	// Registerer takes the handlers' metrics. If it is also a
	// prometheus.Gatherer (a *prometheus.Registry is), GET /metrics serves it.
	Registerer prometheus.Registerer
	// Enqueue hands an update-mode decision to the REST updater. Nil means
	// no updater: update-mode callbacks then get 503 so that TaskRouter
	// tries the fallback URL.
	Enqueue func(handoff.Update) error
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
	// that decided each; GET /-/policy then shows each rule's counts.
	// Remembering decisions is an AfterDecision observer's job.
	Outcomes *outcome.Tracker

	// beforeDecide, when set, runs after a callback is parsed and before the
	// policy decides: a test seam to hold a callback in flight.
	beforeDecide func()
}

// Server answers assignment callbacks and the admin endpoints.
type Server struct {
	store   *policy.Store
	enqueue func(handoff.Update) error
	now     func() time.Time
	// verify is nil in development mode, which skips signature checks.
	verify  *callback.Verifier
	metrics *metrics

	log      *zap.Logger // callback log
	adminLog *zap.Logger
	// warnLimit rate-limits the warn logs that anyone can trigger without a
	// valid signature, so that a flood cannot storm the logs. The metrics
	// still count every request.
	warnLimit *rate.Limiter

	shuttingDown  atomic.Bool
	beforeDecide  func()
	afterDecision func(*callback.Decided)
	// shadow is set by AddShadowAdmin; nil without a shadow policy.
	shadow *ShadowAdmin
	// outcomes is nil without an events endpoint.
	outcomes *outcome.Tracker
	// forms holds the callback handler's per-request working memory.
	forms callback.FormPool
	// reads caches what the current policy reads (see readsFor).
	reads atomic.Pointer[policyReads]
	// replyType is the Content-Type header value of every 200 reply.
	replyType []string

	callback *echo.Echo
	admin    *echo.Echo
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
		enqueue:       opts.Enqueue,
		now:           now,
		metrics:       m,
		log:           log.Named("callback"),
		adminLog:      log.Named("admin"),
		warnLimit:     rate.NewLimiter(rate.Every(time.Second), 5),
		beforeDecide:  opts.beforeDecide,
		afterDecision: opts.AfterDecision,
		outcomes:      opts.Outcomes,
		replyType:     []string{echo.MIMEApplicationJSON},
	}
	cfg := opts.Config
	if !cfg.Dev {
		s.verify = callback.NewVerifier(cfg.PublicBaseURL, cfg.TrustForwarded, cfg.AuthToken, cfg.AuthTokenSecondary)
	}

	// The callback listener's handlers are wrapped once here, not with
	// Use: Echo applies Use's middleware on every request, two closures
	// per callback. Every other path is a 404 through the same wrapping,
	// so that it is counted and timed too.
	s.callback = newEcho(s.log)
	wrap := func(h echo.HandlerFunc) echo.HandlerFunc { return s.observe(recoverer(s.log)(h)) }
	s.callback.Any(AssignmentPath, wrap(s.signedForm(s.assignment)))
	if s.outcomes != nil {
		s.callback.Any(EventsPath, wrap(s.signedForm(s.event)))
	}
	s.callback.RouteNotFound("/*", wrap(func(echo.Context) error { return echo.ErrNotFound }))

	s.admin = newEcho(s.adminLog)
	s.admin.Use(recoverer(s.adminLog))
	s.admin.GET("/healthz", s.healthz)
	s.admin.GET("/readyz", s.readyz)
	if g, ok := opts.Registerer.(prometheus.Gatherer); ok {
		s.admin.GET("/metrics", metricsHandler(g, s.adminLog))
	}
	return s, nil
}

// Callback is the handler for the callback listener, the one TaskRouter
// reaches through the ingress.
func (s *Server) Callback() *echo.Echo { return s.callback }

// Admin is the handler for the admin listener. More routes (reload, the
// effective policy) may be added to it before it serves.
func (s *Server) Admin() *echo.Echo { return s.admin }

// SetShuttingDown turns readiness to 503 for good. Callbacks are still
// answered: the listener closes next, and in-flight ones must finish.
func (s *Server) SetShuttingDown() { s.shuttingDown.Store(true) }

// NewHTTPServer wraps h in an http.Server listening on addr, with the
// package's timeouts and errors logged through log.
func NewHTTPServer(addr string, h http.Handler, log *zap.Logger) *http.Server {
	return newHTTPServerWithTimeouts(addr, h, log, httpTimeouts{
		readHeader: ReadHeaderTimeout,
		read:       ReadTimeout,
		write:      WriteTimeout,
		idle:       IdleTimeout,
	})
}

// httpTimeouts are the four timeouts of an http.Server.
type httpTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// newHTTPServerWithTimeouts is NewHTTPServer with the timeouts given: a
// seam for tests, which cannot wait for the production ones.
func newHTTPServerWithTimeouts(addr string, h http.Handler, log *zap.Logger, to httpTimeouts) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: to.readHeader,
		ReadTimeout:       to.read,
		WriteTimeout:      to.write,
		IdleTimeout:       to.idle,
		// TLS handshake errors, header timeouts and the like: worth seeing, not alarming.
		ErrorLog: stdLogAt(log, zap.WarnLevel),
	}
}

// newEcho returns an Echo that answers every error, its own included, with
// a JSON body.
func newEcho(log *zap.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code, msg := http.StatusInternalServerError, "internal error"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
			if m, ok := he.Message.(string); ok {
				msg = strings.ToLower(m)
			} else {
				msg = strings.ToLower(http.StatusText(code))
			}
		} else {
			log.Error("request failed", zap.String("path", c.Request().URL.Path), zap.Error(err))
		}
		if p := c.Request().URL.Path; code == http.StatusMethodNotAllowed && (p == AssignmentPath || p == EventsPath) {
			c.Response().Header().Set(echo.HeaderAllow, http.MethodPost)
		}
		if err := writeError(c, code, msg, ""); err != nil {
			log.Debug("writing error response", zap.Error(err))
		}
	}
	return e
}

// recoverer turns a panic into a logged 500.
func recoverer(log *zap.Logger) echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.Error("panic in handler", zap.String("path", c.Request().URL.Path), zap.Error(err), zap.ByteString("stack", stack))
			return err
		},
	})
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// writeError answers with code and a JSON error body, byte for byte as
// marshalled (no trailing newline).
func writeError(c echo.Context, code int, msg, field string) error {
	b, err := json.Marshal(errorBody{Error: msg, Field: field})
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(code)
	}
	return c.Blob(code, echo.MIMEApplicationJSON, b)
}

// stdLogAt adapts log for the standard library's *log.Logger, at level.
func stdLogAt(log *zap.Logger, level zapcore.Level) *stdlog.Logger {
	l, err := zap.NewStdLogAt(log, level)
	if err != nil { // only for an invalid level
		return zap.NewStdLog(log)
	}
	return l
}
