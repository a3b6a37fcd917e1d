package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/policy"
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

	// updater: build the REST updater here (it needs cfg's REST credentials),
	// start it, and set enqueue to its Enqueue; drain it during shutdown
	// below, after the callback listener has closed. Hot-reload triggers
	// (policy.NewReloader: file events, SIGHUP, POST /-/reload on
	// srv.Admin()) are wired here too.
	var enqueue func(handlers.Update) error
	if enqueue == nil && store.Current().HasUpdateRules() {
		log.Warn("the policy has update-mode rules but no REST updater is running: their callbacks get 503 and go to the Workflow's fallback URL")
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
	// The callback listener closes first and waits for in-flight callbacks;
	// the admin listener stays up meanwhile, so probes and scrapes see the
	// 503 readiness until the end.
	errs := []error{failed}
	if err := cbSrv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("shutting down the callback listener: %w", err))
	}
	// updater: drain the update queue here, bounded by sctx.
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
