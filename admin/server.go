// Package admin is the admin listener: health, readiness, /metrics, the
// effective configuration (GET /-/config), the policy endpoints (GET
// /-/policy, POST /-/reload), the shadow policy's
// agreement (GET /-/shadow), the explain API (POST /-/explain) and the ops
// console. It is built once from Options: nothing is added to it after New,
// and nothing on it can change what a callback is answered but a reload.
package admin

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/assignd/assignd/decisionlog"
	"github.com/assignd/assignd/experiments"
	"github.com/assignd/assignd/internal/httpserver"
	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/policy/calendar"
)

// Options are what New needs. Store is required.
type Options struct {
	// Store holds the live policy.
	Store *policy.Store
	// Logger is the parent logger; nil logs nothing.
	Logger *zap.Logger
	// Gatherer, when set, is served at GET /metrics.
	Gatherer prometheus.Gatherer
	// Ready reports whether callbacks should be sent here, and if not,
	// why; GET /readyz and the console show it. Nil is ready whenever
	// Store has a policy.
	Ready func() (bool, string)
	// Reload reloads the policy file for POST /-/reload. Nil is the
	// embedded policy, which has no file: the reload answers 409.
	Reload func(context.Context) error
	// Shadow, when set, adds GET /-/shadow and makes GET
	// /-/policy?which=shadow and POST /-/reload cover the shadow policy.
	Shadow *Shadow
	// Outcomes, when set, adds each rule's outcome counts to GET /-/policy.
	Outcomes *outcome.Tracker
	// Console, when set, serves the ops console and POST /-/explain.
	Console *Console
	// Now is the clock of the explain API; nil is time.Now.
	Now func() time.Time
	// Overrides, when set, returns the calendar overrides in force, which
	// the explain API decides with, as the callback listener does.
	Overrides func() *calendar.Overrides
	// Experiments, when set, serves GET /-/experiments: the experiments'
	// report, planned for the given minimum detectable effect.
	Experiments func(mde float64) *experiments.Report
	// DecisionLog, when set, reports the decision log's sink health, for
	// the console; nil without ASSIGND_DECISION_LOG.
	DecisionLog func() decisionlog.Health
	// Hosts are the host names, besides IP literals and localhost, that
	// requests may name in Host (ASSIGND_ADMIN_HOSTS); others get 421.
	Hosts []string
	// Token, when set, is the bearer token every endpoint but health,
	// readiness, metrics and the console's static files requires
	// (ASSIGND_ADMIN_TOKEN).
	Token string
	// Config, when set, is the effective configuration GET /-/config
	// answers as JSON ("assignd config -format json" prints the same
	// shape); it must hold no secret.
	Config func() any
}

// Limits on POST /-/reload: a reload of a changed file parses it while
// callbacks are answered, so a caller who posts reloads in a loop gets
// 429 beyond these. A person or a deploy script needs one at a time.
const (
	ReloadsPerSecond = 2
	ReloadBurst      = 4
)

// Server is the admin listener's handler.
type Server struct {
	store    *policy.Store
	ready    func() (bool, string)
	shadow   *Shadow
	outcomes *outcome.Tracker
	gatherer prometheus.Gatherer
	now      func() time.Time
	// overrides is Options.Overrides, or a func returning none.
	overrides func() *calendar.Overrides
	// experiments and decisionLog are Options' (nil when unset), for the
	// console.
	experiments func(mde float64) *experiments.Report
	decisionLog func() decisionlog.Health
	// reloads limits POST /-/reload, on the clock now.
	reloads *rate.Limiter
	log     *zap.Logger
	echo    *echo.Echo
}

// New builds the admin listener's handler from opts, every route at once.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("admin.New: no policy store")
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{store: opts.Store, ready: opts.Ready, shadow: opts.Shadow, outcomes: opts.Outcomes,
		gatherer: opts.Gatherer, now: opts.Now, log: log.Named("admin")}
	if s.now == nil {
		s.now = time.Now
	}
	s.overrides = opts.Overrides
	s.experiments, s.decisionLog = opts.Experiments, opts.DecisionLog
	if s.overrides == nil {
		s.overrides = func() *calendar.Overrides { return nil }
	}
	s.reloads = rate.NewLimiter(ReloadsPerSecond, ReloadBurst)
	if s.ready == nil {
		s.ready = func() (bool, string) {
			if s.store.Current() == nil {
				return false, "no policy loaded"
			}
			return true, ""
		}
	}
	s.echo = httpserver.NewEcho(s.log)
	s.echo.Use(httpserver.Recoverer(s.log))
	var locked echo.HandlerFunc
	if opts.Console != nil {
		locked = lockedPage
	}
	s.echo.Use(guard(opts.Hosts, opts.Token, locked))
	s.echo.GET("/healthz", s.healthz)
	s.echo.GET("/readyz", s.readyz)
	if opts.Gatherer != nil {
		s.echo.GET("/metrics", metricsHandler(opts.Gatherer, s.log))
	}
	s.echo.GET("/-/policy", s.policyInfo)
	if opts.Config != nil {
		cfg := opts.Config
		s.echo.GET("/-/config", func(c echo.Context) error {
			return c.JSON(http.StatusOK, cfg())
		})
	}
	s.echo.POST("/-/reload", s.reload(opts.Reload), requireJSON)
	if s.shadow != nil {
		sh := s.shadow
		s.echo.GET("/-/shadow", func(c echo.Context) error {
			return c.JSON(http.StatusOK, sh.Agreement())
		})
	}
	if opts.Experiments != nil {
		s.echo.GET(experiments.Path, echo.WrapHandler(experiments.Handler(opts.Experiments)))
	}
	if opts.Console != nil {
		s.addConsole(*opts.Console)
	}
	return s, nil
}

// Handler is the handler for the admin listener.
func (s *Server) Handler() http.Handler { return s.echo }

// addConsole adds the ops console: GET / (the page), its style sheet and
// script, and POST /-/explain. Nothing it adds can change the policy; the
// page's reload button calls POST /-/reload.
func (s *Server) addConsole(opts Console) {
	c := &console{s: s, opts: opts, log: s.log.Named("console"),
		// The template is embedded: a parse error is a build defect, which
		// every test that builds the console finds.
		tmpl: template.Must(template.New("console.html").Funcs(template.FuncMap{"stamp": stamp, "gauge": formatGauge}).
			ParseFS(consoleFiles, "console/console.html")),
		host: opts.Hostname}
	if c.host == "" {
		// A pod without a readable hostname still serves its console.
		c.host, _ = os.Hostname()
	}
	s.echo.GET("/", c.page)
	s.echo.GET("/console/console.css", c.asset("console/console.css", "text/css; charset=utf-8"))
	for _, js := range consoleScripts {
		s.echo.GET("/"+js, c.asset(js, "text/javascript; charset=utf-8"))
	}
	s.echo.POST("/-/explain", c.explain, requireJSON)
	// Browsers ask for an icon; answering it keeps their consoles free of
	// errors, so that a real one stands out.
	s.echo.GET("/favicon.ico", func(ctx echo.Context) error { return ctx.NoContent(http.StatusNoContent) })
}
