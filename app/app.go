// Package app is the serve command's service, importable: New builds
// everything that can fail (listeners, the reservation queue), so that a
// bad token or port stops start-up before anything is served; a policy
// file that does not load starts the service not ready, watching the file
// (Options.CheckPolicy stops start-up instead); Start serves; Stop shuts down in order; Run is the three with a
// signal loop. It owns readiness, both listeners and the reloaders.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/assignd/assignd/admin"
	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/explain"
	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/internal/httpserver"
	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/reservation"
	"github.com/assignd/assignd/reservation/twilio"
	"github.com/assignd/assignd/shadow"
)

// Options are what New needs. Config is required.
type Options struct {
	// Config must pass config.Check, which New runs.
	Config *config.Config
	// Logger is the process logger; nil logs nothing.
	Logger *zap.Logger
	// Version is the build's version, for the start-up log line.
	Version string
	// Collectors, when set, is called with every collector New registers
	// on the service's metrics registry, so that a caller can describe
	// each metric, vectors no callback has touched yet included.
	Collectors func(prometheus.Collector)
	// CheckPolicy makes a policy file that does not load stop New, as
	// "assignd serve -check-policy" asks; without it the service starts
	// not ready and keeps watching the file.
	CheckPolicy bool
	// LookupEnv tells which variables the environment set, for the
	// configuration's sources (GET /-/config, the start-up log); nil is
	// os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// App is the running service: both listeners, the policy stores and
// their reloaders, the reservation queue and the observers of answered
// callbacks.
type App struct {
	cfg     *config.Config
	log     *zap.Logger
	version string
	// checkPolicy is Options.CheckPolicy; lookupEnv is Options.LookupEnv.
	checkPolicy bool
	lookupEnv   func(string) (string, bool)
	store       *policy.Store
	callback    *handlers.Server
	admin       *admin.Server
	updater     *reservation.Updater
	// shuttingDown turns readiness to 503 for good once Stop begins.
	shuttingDown atomic.Bool
	// outcomes remembers decisions and counts the outcomes events report.
	outcomes *outcome.Tracker
	// sendsUpdates is whether the updater runs: only with REST credentials.
	sendsUpdates bool
	// reloader is nil without a policy file: the embedded example never
	// changes.
	reloader *policy.Reloader
	// shadow evaluates ASSIGND_SHADOW_POLICY_FILE after each answer, and
	// shadowReloader keeps it loaded; both are nil without a shadow file.
	shadow         *shadow.Evaluator
	shadowReloader *policy.Reloader
	// decisions feeds the console's recent decisions and per-rule counts.
	decisions *admin.DecisionLog
	// feat are the decision log, the experiment counter and the calendar
	// overrides (features.go).
	feat features

	cbLn, adminLn   net.Listener
	cbSrv, adminSrv *http.Server

	// group runs the listeners and the reloaders; ctx ends when Start's
	// context ends or a listener fails.
	group       *errgroup.Group
	ctx         context.Context
	stopReloads context.CancelFunc
}

// New builds the service from opts, binding both listeners, so that their
// ports are known before Start.
func New(opts Options) (*App, error) {
	cfg := opts.Config
	if cfg == nil {
		return nil, errors.New("app.New: no config")
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if err := checkDecisionMemory(cfg.DecisionMemory, debug.SetMemoryLimit(-1)); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: opts.Logger, version: opts.Version, checkPolicy: opts.CheckPolicy, lookupEnv: opts.LookupEnv}
	if a.log == nil {
		a.log = zap.NewNop()
	}
	if a.lookupEnv == nil {
		a.lookupEnv = os.LookupEnv
	}
	listen, adminListen, err := a.addresses()
	if err != nil {
		return nil, err
	}
	registry, err := newRegistry(opts.Collectors)
	if err != nil {
		return nil, err
	}
	var reg prometheus.Registerer = registry
	if opts.Collectors != nil {
		reg = seenRegisterer{Registerer: registry, seen: opts.Collectors}
	}
	if err := registerBuildInfo(reg); err != nil {
		return nil, err
	}
	if a.store, err = policy.NewStore(a.log, a.policyRegisterer(reg)); err != nil {
		return nil, err
	}
	// The store's check must be in place before the first load.
	a.checkUpdateRules()
	a.store.SetOptions(policy.Options{MaxTableBytes: cfg.MaxTableBytes})
	if err := a.loadPolicy(); err != nil {
		return nil, err
	}
	enqueue, err := a.newUpdater(reg)
	if err != nil {
		return nil, err
	}
	if a.outcomes, err = outcome.New(outcome.Options{
		Capacity:   cfg.DecisionMemory,
		TTL:        cfg.ReservationTimeout + outcome.MaxWrapUp,
		Registerer: reg,
	}); err != nil {
		return nil, err
	}
	a.decisions = admin.NewDecisionLog()
	if err := a.newShadow(reg); err != nil {
		return nil, err
	}
	if err := a.newFeatures(reg); err != nil {
		return nil, err
	}
	if err := a.newServers(reg, registry, enqueue); err != nil {
		_ = a.stopFeatures(context.Background())
		return nil, err
	}
	if err := a.listen(listen, adminListen); err != nil {
		_ = a.stopFeatures(context.Background())
		return nil, err
	}
	return a, nil
}

// seenRegisterer registers on Registerer and shows each collector it
// registered to seen.
type seenRegisterer struct {
	prometheus.Registerer
	seen func(prometheus.Collector)
}

// Register registers c and, when that succeeds, shows it to seen.
func (r seenRegisterer) Register(c prometheus.Collector) error {
	if err := r.Registerer.Register(c); err != nil {
		return err
	}
	r.seen(c)
	return nil
}

// MustRegister registers cs as Register does and panics on a failure.
func (r seenRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// newRegistry is the process's metrics registry, with the Go runtime's and
// the process's own collectors, each shown to seen when it is not nil.
func newRegistry(seen func(prometheus.Collector)) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering process metrics: %w", err)
		}
		if seen != nil {
			seen(c)
		}
	}
	return reg, nil
}

// newServers builds both listeners' handlers on what New has built: the
// callback listener with its observers, and the admin listener with the
// console and the policy endpoints.
func (a *App) newServers(reg prometheus.Registerer, gatherer prometheus.Gatherer, enqueue func(reservation.Update) error) error {
	// Observers of answered callbacks, called in this order after each
	// answer is written: adding one is one line here. The shadow's only
	// hands the callback to its own goroutine.
	observers := []func(*callback.Decided){
		a.decisions.Observe,
	}
	var shadowStore *policy.Store
	if a.shadow != nil {
		observers = append(observers, a.shadow.Observe)
		shadowStore = a.shadow.Store()
	}
	observers = append(observers, a.featureObservers()...)
	var err error
	a.callback, err = handlers.New(handlers.Options{
		Store:         a.store,
		ShadowStore:   shadowStore,
		Config:        a.cfg,
		Logger:        a.log,
		Registerer:    reg,
		Enqueue:       enqueue,
		AfterDecision: afterAll(observers),
		Outcomes:      a.outcomes,
		Overrides:     a.overridesFunc(),
		AfterEvent:    a.afterEvent(),
	})
	if err != nil {
		return err
	}
	console := &admin.Console{Explain: explain.JSON, Decisions: a.decisions, Started: time.Now(), Outcomes: a.outcomes.Summary}
	opts := admin.Options{Store: a.store, Logger: a.log, Gatherer: gatherer, Ready: a.Ready, Outcomes: a.outcomes, Console: console,
		Hosts: a.cfg.AdminHostList(), Token: a.cfg.AdminToken, Config: func() any { return a.cfg.Entries(a.lookupEnv) }}
	if a.shadow != nil {
		console.Shadow = a.shadow.Summaries
	}
	// Every reload trigger goes through the one Reloader goroutine: file
	// events in the policy's directory, SIGHUP (Reload), and POST /-/reload.
	if a.cfg.PolicyFile != "" {
		if a.reloader, err = policy.NewReloader(a.store, a.cfg.PolicyFile, a.log, reg); err != nil {
			return err
		}
		opts.Reload = a.reloader.Reload
		if a.shadow != nil {
			opts.Shadow = &admin.Shadow{Store: a.shadow.Store(), Reload: a.shadowReloader.Reload,
				Agreement: func() any { return a.shadow.Agreement() }}
		}
	}
	a.featureAdmin(&opts)
	a.admin, err = admin.New(opts)
	return err
}

// newShadow loads ASSIGND_SHADOW_POLICY_FILE, if set, into a store of its
// own with a Reloader and an Evaluator. A shadow file that does not load is
// logged and counted, as a failed reload is, and serving starts anyway: the
// shadow must never stand in the live policy's way.
func (a *App) newShadow(reg prometheus.Registerer) error {
	file := a.cfg.ShadowPolicyFile
	if file == "" {
		return nil
	}
	store, err := policy.NewShadowStore(a.log, reg)
	if err != nil {
		return err
	}
	store.SetOptions(policy.Options{MaxTableBytes: a.cfg.MaxTableBytes})
	if _, err := store.LoadFile(file); err != nil {
		a.log.Warn("shadow policy not loaded; serving without it until a reload succeeds", zap.String("file", file))
	}
	if a.shadowReloader, err = policy.NewReloader(store, file, a.log.Named("shadow"), reg); err != nil {
		return err
	}
	a.shadow, err = shadow.New(shadow.Options{Store: store, Logger: a.log, Registerer: reg})
	return err
}

// afterAll returns an AfterDecision that calls each observer in turn, or
// nil when there are none, so that the handler skips the call.
func afterAll(observers []func(*callback.Decided)) func(*callback.Decided) {
	switch len(observers) {
	case 0:
		return nil
	case 1:
		return observers[0]
	}
	return func(d *callback.Decided) {
		for _, o := range observers {
			o(d)
		}
	}
}

// checkUpdateRules makes the store refuse update-mode rules when there are
// no REST credentials to send their updates with, outside development
// mode, which runs them anyway so that the embedded example runs on a
// laptop, and answers their callbacks with 503. A policy the check passes
// is about to run: policyLoaded prepares the features for it.
func (a *App) checkUpdateRules() {
	_, noREST := a.cfg.REST()
	refuse := noREST != nil && !a.cfg.Dev
	a.store.SetCheck(func(p *policy.Policy) error {
		if refuse && p.HasUpdateRules() {
			return noREST
		}
		a.policyLoaded(p)
		return nil
	})
}

// newUpdater builds the REST updater and returns what the callback
// listener hands update-mode decisions to: nil when there are no REST
// credentials.
//
// The REST updater runs whenever credentials allow, so that a reload may
// bring in update-mode rules. Without credentials, a policy with
// update-mode rules is refused, at start and on every reload
// (checkUpdateRules); only development mode starts anyway.
func (a *App) newUpdater(reg prometheus.Registerer) (func(reservation.Update) error, error) {
	// config.Check has vetted the credentials: the only error left is a
	// *config.MissingREST.
	_, noREST := a.cfg.REST()
	var send func(context.Context, reservation.Update) error
	if noREST == nil {
		var err error
		if send, err = twilio.NewSender(a.cfg); err != nil {
			return nil, err
		}
	}
	// The updater's metrics are registered even when it cannot run, so that
	// dashboards and alerts see the same series on every pod.
	var err error
	a.updater, err = reservation.New(reservation.Options{
		Send:               send,
		Queue:              a.cfg.UpdateQueue,
		Concurrency:        a.cfg.UpdateConcurrency,
		AttemptTimeout:     a.cfg.UpdateAttemptTimeout,
		ReservationTimeout: a.cfg.ReservationTimeout,
		Log:                a.log,
		Registerer:         reg,
	})
	if err != nil {
		return nil, err
	}
	if noREST == nil {
		a.sendsUpdates = true
		return a.updater.Enqueue, nil
	}
	if p := a.store.Current(); p != nil && p.HasUpdateRules() {
		if !a.cfg.Dev {
			// The embedded example, which no check vets.
			return nil, noREST
		}
		var missing string
		if me, ok := errors.AsType[*config.MissingREST](noREST); ok {
			missing = me.Vars
		}
		a.log.Warn("update-mode rules have no REST credentials: development mode runs them anyway, and their callbacks get 503", zap.String("missing", missing))
	}
	return nil, nil
}

// addresses returns the addresses to listen on: in development mode
// loopback only, whatever the configuration asks.
func (a *App) addresses() (listen, adminListen string, err error) {
	listen, adminListen = a.cfg.Listen, a.cfg.AdminListen
	if !a.cfg.Dev {
		return listen, adminListen, nil
	}
	if listen, err = loopback(listen); err != nil {
		return "", "", fmt.Errorf("ASSIGND_LISTEN: %w", err)
	}
	if adminListen, err = loopback(adminListen); err != nil {
		return "", "", fmt.Errorf("ASSIGND_ADMIN_LISTEN: %w", err)
	}
	a.log.Warn("DEVELOPMENT MODE: signatures are NOT checked and both listeners bind 127.0.0.1 only; never set ASSIGND_DEV=true in production",
		zap.String("listen", listen), zap.String("admin_listen", adminListen))
	return listen, adminListen, nil
}

// listen binds both listeners, so that their ports are known before Start.
func (a *App) listen(listen, adminListen string) error {
	var err error
	if a.cbLn, err = net.Listen("tcp", listen); err != nil {
		return fmt.Errorf("ASSIGND_LISTEN: %w", err)
	}
	// Anyone can open connections to the callback listener: the cap
	// counts connections serving a request, evicting idle ones for new
	// ones, and past it they wait in the kernel's backlog instead of
	// costing memory. config.Check makes the cap at least 1.
	limit := httpserver.LimitConns(a.cbLn, a.cfg.MaxConnections)
	a.cbLn = limit
	if a.adminLn, err = net.Listen("tcp", adminListen); err != nil {
		a.cbLn.Close()
		return fmt.Errorf("ASSIGND_ADMIN_LISTEN: %w", err)
	}
	httpLog := a.log.Named("http")
	callbackAddr, adminAddr := a.Addrs()
	a.cbSrv = httpserver.New(callbackAddr, a.callback.Handler(), httpLog, httpserver.Default)
	a.cbSrv.ConnState = limit.ConnState
	a.adminSrv = httpserver.New(adminAddr, a.admin.Handler(), httpLog, httpserver.Default)
	return nil
}

// Addrs are the addresses the callback and admin listeners are bound to,
// with the ports the kernel picked for ":0".
func (a *App) Addrs() (callback, admin string) {
	return a.cbLn.Addr().String(), a.adminLn.Addr().String()
}

// Ready reports whether callbacks should be sent here, and if not, why:
// not before a policy is loaded (the reason carries the last load's
// problems), and not once shutdown has begun.
func (a *App) Ready() (bool, string) {
	if a.shuttingDown.Load() {
		return false, "shutting down"
	}
	if a.store.Current() == nil {
		return false, a.notLoaded()
	}
	return true, ""
}

// Reload asks the reloaders to load the policy files and the calendar
// overrides file again, without waiting for the outcome, as SIGHUP does.
// The embedded example never changes. Call it after Start.
func (a *App) Reload() {
	a.reloadFeatures()
	if a.reloader == nil {
		return
	}
	a.reloader.Trigger()
	if a.shadowReloader != nil {
		a.shadowReloader.Trigger()
	}
}

// Start serves both listeners, starts the updater and the reloaders. It
// does not wait: Run waits, and Stop shuts everything down.
func (a *App) Start(ctx context.Context) {
	a.group, a.ctx = errgroup.WithContext(ctx)
	if a.sendsUpdates {
		a.updater.Start()
	}
	a.group.Go(func() error { return serve(a.cbSrv, a.cbLn, "callback") })
	a.group.Go(func() error { return serve(a.adminSrv, a.adminLn, "admin") })
	// Reloads go on until the admin listener has closed, so that a POST
	// /-/reload during shutdown is answered.
	rctx, stopReloads := context.WithCancel(context.Background())
	a.stopReloads = stopReloads
	if a.shadowReloader != nil {
		a.group.Go(func() error { a.shadowReloader.Run(rctx); return nil })
		a.group.Go(func() error { a.shadow.Run(rctx); return nil })
	}
	if a.reloader != nil {
		a.group.Go(func() error { a.reloader.Run(rctx); return nil })
	}
	a.startFeatures(rctx)
	callbackAddr, adminAddr := a.Addrs()
	var hash string
	if p := a.store.Current(); p != nil {
		hash = p.Hash()
	}
	a.logConfig()
	a.log.Info("assignd started",
		zap.String("version", a.version),
		zap.String("listen", callbackAddr),
		zap.String("admin_listen", adminAddr),
		zap.String("policy", policyName(a.cfg)),
		zap.String("policy_hash", hash),
		zap.Bool("signatures_checked", !a.cfg.Dev))
}

// failure is the listener failure that ended Start's context, or nil.
func (a *App) failure() error {
	if err := context.Cause(a.ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// Stop shuts down in order, within ctx: readiness turns 503, callbacks
// are still answered for ASSIGND_SHUTDOWN_DELAY (or until ctx ends), the
// callback listener closes and its in-flight callbacks finish, the updates
// they queued drain, and the admin listener closes last, so that probes
// and scrapes see the 503 readiness until the end.
func (a *App) Stop(ctx context.Context) error {
	failed := a.failure()
	a.shuttingDown.Store(true)
	if a.cfg.ShutdownDelay > 0 && failed == nil {
		// Readiness is 503 now, but a load balancer takes a moment to stop
		// sending here; until then callbacks are still answered, not refused.
		a.log.Info("readiness is 503; still answering callbacks while traffic drains away", zap.Duration("delay", a.cfg.ShutdownDelay))
		delay := time.NewTimer(a.cfg.ShutdownDelay)
		select {
		case <-delay.C:
		case <-ctx.Done():
			delay.Stop()
		}
	}
	var errs []error
	if err := a.cbSrv.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shutting down the callback listener: %w", err))
	}
	if a.sendsUpdates {
		// Callbacks have stopped arriving: drain what they queued. What is
		// still queued when ctx ends is abandoned, and TaskRouter times
		// those reservations out and offers the tasks again.
		if err := a.updater.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("draining reservation updates: %w", err))
		}
	}
	if err := a.stopFeatures(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := a.adminSrv.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shutting down the admin listener: %w", err))
	}
	a.stopReloads()
	// Wait returns the first listener failure, if any.
	if err := errors.Join(append([]error{a.group.Wait()}, errs...)...); err != nil {
		return err
	}
	a.log.Info("assignd stopped")
	return nil
}

// Run is the serve command: it starts a, reloads on every value from hup
// (nil for none), and stops a when ctx ends or a listener fails, within
// ASSIGND_SHUTDOWN_TIMEOUT.
func (a *App) Run(ctx context.Context, hup <-chan os.Signal) error {
	a.Start(ctx)
	for running := true; running; {
		select {
		case <-hup:
			a.Reload()
		case <-a.ctx.Done():
			running = false
		}
	}
	if err := a.failure(); err != nil {
		a.log.Error("listener failed; shutting down", zap.Error(err))
	} else {
		a.log.Info("shutting down", zap.Duration("timeout", a.cfg.ShutdownTimeout))
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	return a.Stop(sctx)
}

// serve runs hs on ln until it is shut down; only a real failure is an error.
func serve(hs *http.Server, ln net.Listener, name string) error {
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s listener: %w", name, err)
	}
	return nil
}

// loopback replaces the host of a listen address with 127.0.0.1.
func loopback(addr string) (string, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", port), nil
}

func policyName(cfg *config.Config) string {
	if cfg.PolicyFile != "" {
		return cfg.PolicyFile
	}
	return "embedded " + policy.ExampleName
}
