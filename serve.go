package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/reservation"
)

// runServe runs the service until ctx is done, then shuts it down
// gracefully: readiness turns 503, the callback listener closes, in-flight
// callbacks finish, all within ASSIGND_SHUTDOWN_TIMEOUT.
//
// Everything that can fail at start-up (no token, a bad policy, a port in
// use) fails before anything is served.
func runServe(ctx context.Context, cfg *config.Config, log *zap.Logger) error {
	if !cfg.Dev && cfg.AuthToken == "" {
		return handlers.ErrNoAuthToken
	}
	listen, adminListen := cfg.Listen, cfg.AdminListen
	if cfg.Dev {
		var err error
		if listen, err = loopback(listen); err != nil {
			return fmt.Errorf("ASSIGND_LISTEN: %w", err)
		}
		if adminListen, err = loopback(adminListen); err != nil {
			return fmt.Errorf("ASSIGND_ADMIN_LISTEN: %w", err)
		}
		log.Warn("DEVELOPMENT MODE: signatures are NOT checked and both listeners bind 127.0.0.1 only; never set ASSIGND_DEV=true in production",
			zap.String("listen", listen), zap.String("admin_listen", adminListen))
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	store := policy.NewStore(log, reg)
	if cfg.PolicyFile != "" {
		if _, err := store.LoadFile(cfg.PolicyFile); err != nil {
			return fmt.Errorf("loading ASSIGND_POLICY_FILE: %w", err)
		}
	} else {
		p, err := policy.Parse(policy.ExampleName, policy.Example())
		if err != nil {
			return fmt.Errorf("loading the embedded example policy: %w", err)
		}
		store.Set(p)
		log.Warn("ASSIGND_POLICY_FILE is not set: running the embedded example policy")
	}

	// The REST updater runs whenever credentials allow, so that a reload
	// may bring in update-mode rules. Without credentials, a policy with
	// update-mode rules is refused, at start and on every reload; only
	// development mode starts anyway, so the embedded example runs on a
	// laptop, and answers its update-mode callbacks with 503.
	ok, missing := cfg.HasRESTCredentials()
	var send func(context.Context, reservation.Update) error
	if ok {
		var err error
		if send, err = reservation.NewTwilioSender(cfg); err != nil {
			return err
		}
	}
	// The updater's metrics are registered even when it cannot run, so that
	// dashboards and alerts see the same series on every pod.
	updater := reservation.New(reservation.Options{
		Send:               send,
		Queue:              cfg.UpdateQueue,
		Concurrency:        cfg.UpdateConcurrency,
		AttemptTimeout:     cfg.UpdateAttemptTimeout,
		ReservationTimeout: cfg.ReservationTimeout,
		Log:                log,
		Registerer:         reg,
	})
	var enqueue func(reservation.Update) error
	if ok {
		updater.Start()
		enqueue = updater.Enqueue
	} else {
		noREST := fmt.Errorf("the policy has update-mode rules, which need REST credentials: set %s", missing)
		if store.Current().HasUpdateRules() {
			if !cfg.Dev {
				return noREST
			}
			log.Warn("update-mode rules have no REST credentials: development mode runs them anyway, and their callbacks get 503", zap.String("missing", missing))
		}
		if !cfg.Dev {
			store.SetCheck(func(p *policy.Policy) error {
				if p.HasUpdateRules() {
					return noREST
				}
				return nil
			})
		}
	}

	srv, err := handlers.New(handlers.Options{
		Store:      store,
		Config:     cfg,
		Logger:     log,
		Registerer: reg,
		Enqueue:    enqueue,
	})
	if err != nil {
		return err
	}

	cbLn, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("ASSIGND_LISTEN: %w", err)
	}
	adminLn, err := net.Listen("tcp", adminListen)
	if err != nil {
		cbLn.Close()
		return fmt.Errorf("ASSIGND_ADMIN_LISTEN: %w", err)
	}
	httpLog := log.Named("http")
	cbSrv := handlers.NewHTTPServer(cbLn.Addr().String(), srv.Callback(), httpLog)
	adminSrv := handlers.NewHTTPServer(adminLn.Addr().String(), srv.Admin(), httpLog)

	// Every reload trigger goes through the one Reloader goroutine: file
	// events in the policy's directory, SIGHUP, and POST /-/reload.
	var reloaded chan struct{}
	if cfg.PolicyFile != "" {
		reloader := policy.NewReloader(store, cfg.PolicyFile, log)
		srv.AddPolicyAdmin(reloader.Reload)
		rctx, stopReloads := context.WithCancel(ctx)
		defer stopReloads()
		reloaded = make(chan struct{})
		go func() {
			defer close(reloaded)
			if err := reloader.Run(rctx); err != nil {
				log.Error("policy watch failed; SIGHUP and POST /-/reload still reload", zap.Error(err))
			}
		}()
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for {
				select {
				case <-hup:
					reloader.Trigger()
				case <-rctx.Done():
					return
				}
			}
		}()
	} else {
		srv.AddPolicyAdmin(nil)
	}

	served := make(chan error, 2)
	go func() { served <- serve(cbSrv, cbLn, "callback") }()
	go func() { served <- serve(adminSrv, adminLn, "admin") }()
	log.Info("assignd started",
		zap.String("version", version),
		zap.String("listen", cbLn.Addr().String()),
		zap.String("admin_listen", adminLn.Addr().String()),
		zap.String("policy", policyName(cfg)),
		zap.String("policy_hash", store.Current().Hash()),
		zap.Bool("signatures_checked", !cfg.Dev))

	var failed error
	select {
	case <-ctx.Done():
		log.Info("shutting down", zap.Duration("timeout", cfg.ShutdownTimeout))
	case failed = <-served:
		log.Error("listener failed; shutting down", zap.Error(failed))
	}

	srv.SetShuttingDown()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if cfg.ShutdownDelay > 0 && failed == nil {
		// Readiness is 503 now, but a load balancer takes a moment to stop
		// sending here; until then callbacks are still answered, not refused.
		log.Info("readiness is 503; still answering callbacks while traffic drains away", zap.Duration("delay", cfg.ShutdownDelay))
		time.Sleep(cfg.ShutdownDelay)
	}
	// The callback listener closes first and waits for in-flight callbacks;
	// the admin listener stays up meanwhile, so probes and scrapes see the
	// 503 readiness until the end.
	errs := []error{failed}
	if err := cbSrv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("shutting down the callback listener: %w", err))
	}
	if enqueue != nil {
		// Callbacks have stopped arriving: drain what they queued. What is
		// still queued when sctx ends is abandoned, and TaskRouter times
		// those reservations out and offers the tasks again.
		if err := updater.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("draining reservation updates: %w", err))
		}
	}
	if err := adminSrv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("shutting down the admin listener: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	log.Info("assignd stopped")
	return nil
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
