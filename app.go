package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
	"golang.org/x/net/netutil"
	"golang.org/x/sync/errgroup"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/explain"
	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/reservation"
	"github.com/assignd/assignd/shadow"
)

// app is the serve command's service, with a lifecycle in three steps:
// newApp does everything that can fail, so that a bad token, policy or port
// stops start-up before anything is served; start serves; stop shuts down
// in order.
type app struct {
	cfg     *config.Config
	log     *zap.Logger
	store   *policy.Store
	srv     *handlers.Server
	updater *reservation.Updater
	// outcomes remembers decisions and counts the outcomes events report.
	outcomes *outcome.Tracker
	// sendsUpdates is whether the updater runs: only with REST credentials.
	sendsUpdates bool
	// reloader is nil without a policy file: the embedded example never
	// changes.
	reloader *policy.Reloader
	// reload takes a reload request without waiting for its outcome, as
	// SIGHUP does: main turns SIGHUP into sends, tests send themselves. It
	// is nil when there is no policy file to reload.
	reload chan struct{}
	// shadow evaluates ASSIGND_SHADOW_POLICY_FILE after each answer, and
	// shadowReloader keeps it loaded; both are nil without a shadow file.
	shadow         *shadow.Evaluator
	shadowReloader *policy.Reloader
	// decisions feeds the console's recent decisions and per-rule counts.
	decisions *handlers.DecisionLog

	cbLn, adminLn   net.Listener
	cbSrv, adminSrv *http.Server

	// group runs the listeners and the reload loop; ctx ends when start's
	// context ends or a listener fails.
	group       *errgroup.Group
	ctx         context.Context
	stopReloads context.CancelFunc
}

// newApp builds the service from a configuration that config.Check
// accepts, binding both listeners, so that their ports are known before
// start.
func newApp(cfg *config.Config, log *zap.Logger) (*app, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log}
	listen, adminListen, err := a.addresses()
	if err != nil {
		return nil, err
	}
	reg, err := newRegistry()
	if err != nil {
		return nil, err
	}
	if a.store, err = policy.NewStore(log, reg); err != nil {
		return nil, err
	}
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
	a.decisions = handlers.NewDecisionLog()
	if err := a.newShadow(reg); err != nil {
		return nil, err
	}
	if err := a.newServer(reg, enqueue); err != nil {
		return nil, err
	}
	if err := a.listen(listen, adminListen); err != nil {
		return nil, err
	}
	return a, nil
}

// newRegistry is the process's metrics registry, with the Go runtime's and
// the process's own collectors.
func newRegistry() (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering process metrics: %w", err)
		}
	}
	return reg, nil
}

// newServer builds the HTTP edge on what newApp has built: the callback
// handlers with their observers, the console and the admin endpoints.
func (a *app) newServer(reg *prometheus.Registry, enqueue func(reservation.Update) error) error {
	// Observers of answered callbacks, called in this order after each
	// answer is written: adding one is one line here.
	observers := []func(*handlers.Decided){
		rememberDecision(a.outcomes),
		a.decisions.Observe,
	}
	if a.shadow != nil {
		observers = append(observers, a.shadow.Observe)
	}
	var err error
	a.srv, err = handlers.New(handlers.Options{
		Store:         a.store,
		Config:        a.cfg,
		Logger:        a.log,
		Registerer:    reg,
		Enqueue:       enqueue,
		AfterDecision: afterAll(observers),
		Outcomes:      a.outcomes,
	})
	if err != nil {
		return err
	}
	console := handlers.ConsoleOptions{Explain: explain.JSON, Decisions: a.decisions, Started: time.Now(), Outcomes: a.outcomes.Summary}
	if a.shadow != nil {
		console.Shadow = a.shadow.Summary
	}
	a.srv.AddConsole(console)
	// Every reload trigger goes through the one Reloader goroutine: file
	// events in the policy's directory, SIGHUP, and POST /-/reload.
	if a.cfg.PolicyFile != "" {
		if a.reloader, err = policy.NewReloader(a.store, a.cfg.PolicyFile, a.log, reg); err != nil {
			return err
		}
		a.reload = make(chan struct{})
		a.srv.AddPolicyAdmin(a.reloader.Reload)
		if a.shadow != nil {
			a.srv.AddShadowAdmin(handlers.ShadowAdmin{Store: a.shadow.Store(), Reload: a.shadowReloader.Reload,
				Agreement: func() any { return a.shadow.Agreement() }})
		}
	} else {
		a.srv.AddPolicyAdmin(nil)
	}
	return nil
}

// rememberDecision is the observer that keeps each decision in t, so that
// the reservation's events can be attributed to its rule.
func rememberDecision(t *outcome.Tracker) func(*handlers.Decided) {
	return func(d *handlers.Decided) {
		t.Remember(d.Callback.ReservationSid, outcome.Entry{
			Rule:        d.Decision.Rule,
			Instruction: d.Decision.Instruction.Name,
			Mode:        string(d.Decision.Mode),
			PolicyHash:  d.Policy.Hash(),
			Decided:     d.Received,
		})
	}
}

// loadPolicy loads ASSIGND_POLICY_FILE, or the embedded example without it.
func (a *app) loadPolicy() error {
	if a.cfg.PolicyFile != "" {
		if _, err := a.store.LoadFile(a.cfg.PolicyFile); err != nil {
			return fmt.Errorf("loading ASSIGND_POLICY_FILE: %w", err)
		}
		return nil
	}
	p, err := policy.Parse(policy.ExampleName, policy.Example())
	if err != nil {
		return fmt.Errorf("loading the embedded example policy: %w", err)
	}
	a.store.Set(p)
	a.log.Warn("ASSIGND_POLICY_FILE is not set: running the embedded example policy")
	return nil
}

// newShadow loads ASSIGND_SHADOW_POLICY_FILE, if set, into a store of its
// own with a Reloader and an Evaluator. A shadow file that does not load is
// logged and counted, as a failed reload is, and serving starts anyway: the
// shadow must never stand in the live policy's way.
func (a *app) newShadow(reg prometheus.Registerer) error {
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
func afterAll(observers []func(*handlers.Decided)) func(*handlers.Decided) {
	switch len(observers) {
	case 0:
		return nil
	case 1:
		return observers[0]
	}
	return func(d *handlers.Decided) {
		for _, o := range observers {
			o(d)
		}
	}
}

// newUpdater builds the REST updater and returns what the server hands
// update-mode decisions to: nil when there are no REST credentials.
//
// The REST updater runs whenever credentials allow, so that a reload may
// bring in update-mode rules. Without credentials, a policy with
// update-mode rules is refused, at start and on every reload; only
// development mode starts anyway, so the embedded example runs on a laptop,
// and answers its update-mode callbacks with 503.
func (a *app) newUpdater(reg prometheus.Registerer) (func(reservation.Update) error, error) {
	_, missing := a.cfg.HasRESTCredentials()
	noREST := a.cfg.RESTCredentials()
	var send func(context.Context, reservation.Update) error
	if noREST == nil {
		var err error
		if send, err = reservation.NewTwilioSender(a.cfg); err != nil {
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
	if a.store.Current().HasUpdateRules() {
		if !a.cfg.Dev {
			return nil, noREST
		}
		a.log.Warn("update-mode rules have no REST credentials: development mode runs them anyway, and their callbacks get 503", zap.String("missing", missing))
	}
	if !a.cfg.Dev {
		a.store.SetCheck(func(p *policy.Policy) error {
			if p.HasUpdateRules() {
				return noREST
			}
			return nil
		})
	}
	return nil, nil
}

// addresses returns the addresses to listen on: in development mode
// loopback only, whatever the configuration asks.
func (a *app) addresses() (listen, adminListen string, err error) {
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

// listen binds both listeners, so that their ports are known before start.
func (a *app) listen(listen, adminListen string) error {
	var err error
	if a.cbLn, err = net.Listen("tcp", listen); err != nil {
		return fmt.Errorf("ASSIGND_LISTEN: %w", err)
	}
	// Anyone can open connections to the callback listener and hold them
	// idle; past the cap they wait in the kernel's backlog instead of
	// costing memory. config.Check makes the cap at least 1.
	a.cbLn = netutil.LimitListener(a.cbLn, a.cfg.MaxConnections)
	if a.adminLn, err = net.Listen("tcp", adminListen); err != nil {
		a.cbLn.Close()
		return fmt.Errorf("ASSIGND_ADMIN_LISTEN: %w", err)
	}
	httpLog := a.log.Named("http")
	a.cbSrv = handlers.NewHTTPServer(a.callbackAddr(), a.srv.Callback(), httpLog)
	a.adminSrv = handlers.NewHTTPServer(a.adminAddr(), a.srv.Admin(), httpLog)
	return nil
}

// callbackAddr and adminAddr are the addresses the listeners are bound to,
// with the ports the kernel picked for ":0".
func (a *app) callbackAddr() string { return a.cbLn.Addr().String() }

// adminAddr: see callbackAddr.
func (a *app) adminAddr() string { return a.adminLn.Addr().String() }

// start serves both listeners, starts the updater and runs the reload
// loop. It does not wait: done ends when ctx ends or a listener fails, and
// stop shuts everything down.
func (a *app) start(ctx context.Context) {
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
	}
	if a.reloader != nil {
		a.group.Go(func() error { a.reloader.Run(rctx); return nil })
		a.group.Go(func() error {
			for {
				select {
				case <-a.reload:
					a.reloader.Trigger()
					if a.shadowReloader != nil {
						a.shadowReloader.Trigger()
					}
				case <-rctx.Done():
					return nil
				}
			}
		})
	}
	a.log.Info("assignd started",
		zap.String("version", version),
		zap.String("listen", a.callbackAddr()),
		zap.String("admin_listen", a.adminAddr()),
		zap.String("policy", policyName(a.cfg)),
		zap.String("policy_hash", a.store.Current().Hash()),
		zap.Bool("signatures_checked", !a.cfg.Dev))
}

// done is closed when start's context ends or a listener fails: time to
// stop.
func (a *app) done() <-chan struct{} { return a.ctx.Done() }

// failure is the listener failure that ended done, or nil.
func (a *app) failure() error {
	if err := context.Cause(a.ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// stop shuts down in order, within ctx: readiness turns 503, callbacks
// are still answered for ASSIGND_SHUTDOWN_DELAY, the callback listener
// closes and its in-flight callbacks finish, the updates they queued drain,
// and the admin listener closes last, so that probes and scrapes see the
// 503 readiness until the end.
func (a *app) stop(ctx context.Context) error {
	failed := a.failure()
	a.srv.SetShuttingDown()
	if a.cfg.ShutdownDelay > 0 && failed == nil {
		// Readiness is 503 now, but a load balancer takes a moment to stop
		// sending here; until then callbacks are still answered, not refused.
		a.log.Info("readiness is 503; still answering callbacks while traffic drains away", zap.Duration("delay", a.cfg.ShutdownDelay))
		time.Sleep(a.cfg.ShutdownDelay)
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

// run is the serve command: it starts a, and stops it when ctx ends or a
// listener fails, within ASSIGND_SHUTDOWN_TIMEOUT.
func (a *app) run(ctx context.Context) error {
	a.start(ctx)
	<-a.done()
	if err := a.failure(); err != nil {
		a.log.Error("listener failed; shutting down", zap.Error(err))
	} else {
		a.log.Info("shutting down", zap.Duration("timeout", a.cfg.ShutdownTimeout))
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	return a.stop(sctx)
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
