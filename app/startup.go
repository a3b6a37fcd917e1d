package app

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/assignd/assignd/internal/buildinfo"
	"github.com/assignd/assignd/internal/metric"
	"github.com/assignd/assignd/policy"
)

// runsExample is whether the embedded example is the live policy.
func (a *App) runsExample() bool { return a.cfg.PolicyFile == "" }

// policyRegisterer is what the live store registers its metrics on: with
// the example running, every assignd_policy_* series, assignd_policy_info
// included, carries example="true", so that a dashboard or an alert sees
// a demo in production.
func (a *App) policyRegisterer(reg prometheus.Registerer) prometheus.Registerer {
	if !a.runsExample() {
		return reg
	}
	return prometheus.WrapRegistererWith(prometheus.Labels{"example": "true"}, reg)
}

// loadPolicy loads ASSIGND_POLICY_FILE, or the embedded example without
// it, which config.Check allows only in development mode or with
// ASSIGND_EXAMPLE_POLICY. A policy file that does not load stops start-up
// only with Options.CheckPolicy; otherwise the service starts not ready,
// as after a refused reload, and the reloader's watch loads the file once
// it is fixed: a bad ConfigMap must not crash-loop every new pod.
func (a *App) loadPolicy() error {
	if !a.runsExample() {
		if _, err := a.store.LoadFile(a.cfg.PolicyFile); err != nil {
			if a.checkPolicy {
				return fmt.Errorf("loading ASSIGND_POLICY_FILE: %w", err)
			}
			a.log.Error("policy not loaded: not ready until the file loads; watching it",
				zap.String("file", a.cfg.PolicyFile), zap.Strings("problems", policy.Problems(err)))
		}
		return nil
	}
	p, err := policy.Parse(policy.ExampleName, policy.Example())
	if err != nil {
		return fmt.Errorf("loading the embedded example policy: %w", err)
	}
	a.store.Set(p)
	if a.cfg.Dev {
		a.log.Warn("ASSIGND_POLICY_FILE is not set: running the embedded example policy (development mode)")
	} else {
		a.log.Warn("ASSIGND_EXAMPLE_POLICY=true: running the embedded example policy, a demo's rules, outside development mode")
	}
	return nil
}

// notLoaded is readiness's reason before any policy has loaded: the last
// load's problems, or that none was tried yet.
func (a *App) notLoaded() string {
	problems := a.store.LastLoad().Problems()
	if len(problems) == 0 {
		return "no policy loaded"
	}
	return "no policy loaded: " + strings.Join(problems, "; ")
}

// registerBuildInfo adds assignd_build_info{version,revision,goversion} 1,
// as Prometheus's own exporters carry their build.
func registerBuildInfo(reg prometheus.Registerer) error {
	bi := buildinfo.Get()
	g := metric.GaugeVec("assignd_build_info", "The running binary's build, as labels on a gauge that is always 1.", "version", "revision", "goversion")
	g.WithLabelValues(bi.Version, bi.Revision, bi.GoVersion).Set(1)
	return metric.Register(reg, "build info", g)
}

// logConfig logs the effective configuration at info, one field a
// variable; secrets show as set or unset only (config.Entries).
func (a *App) logConfig() {
	entries := a.cfg.Entries(a.lookupEnv)
	fields := make([]zap.Field, 0, len(entries))
	for _, e := range entries {
		fields = append(fields, zap.String(e.Name, e.Value))
	}
	a.log.Info("effective configuration", fields...)
}
