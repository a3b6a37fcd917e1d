package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/assignd/assignd/admin"
	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/decisionlog"
	"github.com/assignd/assignd/experiments"
	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/policy/calendar"
)

// features are the serve-side parts of the policy features: the decision
// log (ASSIGND_DECISION_LOG), the experiment counter and the calendar
// overrides (ASSIGND_OVERRIDES_FILE). Each observes decisions and events
// through the listeners' hooks; none can change an answer.
type features struct {
	// records writes the decision log; nil without ASSIGND_DECISION_LOG.
	records *decisionlog.Log
	// experiments counts decisions and outcomes per experiment and arm.
	experiments *experiments.Counter
	// overrides and overridesReloader are nil without
	// ASSIGND_OVERRIDES_FILE.
	overrides         *policy.OverridesStore
	overridesReloader *policy.Reloader
}

// newFeatures builds the features on reg, after the policy's first load.
// A bad overrides file at start is logged and counted, as a failed reload
// is, and serving starts without overrides: the calendars' own hours and
// holidays still apply, and a fixed file is picked up by the reloader.
func (a *App) newFeatures(reg prometheus.Registerer) error {
	f := &a.feat
	var err error
	if f.experiments, err = experiments.NewCounter(reg); err != nil {
		return err
	}
	if p := a.store.Current(); p != nil {
		f.experiments.Declare(p.Experiments().Set())
	}
	if file := a.cfg.OverridesFile; file != "" {
		if f.overrides, err = policy.NewOverridesStore(a.log, reg); err != nil {
			return err
		}
		f.overrides.SetOnLoad(func(ov *calendar.Overrides) { a.checkOverrides(a.store.Current(), ov) })
		if _, err := f.overrides.LoadFile(file); err != nil {
			a.log.Warn("calendar overrides not loaded; serving without them until a reload succeeds", zap.String("file", file))
		}
		if f.overridesReloader, err = policy.NewOverridesReloader(f.overrides, file, a.log, reg); err != nil {
			return err
		}
	}
	if err := reg.Register(policy.NewCalendarCollector(a.store.Current, a.currentOverrides)); err != nil {
		return fmt.Errorf("registering calendar metrics: %w", err)
	}
	if a.cfg.DecisionLog != "" {
		if f.records, err = decisionlog.New(decisionlog.Options{Sink: a.cfg.DecisionLog, MaxMB: a.cfg.DecisionLogMaxMB,
			MaxFiles: a.cfg.DecisionLogMaxFiles, Logger: a.log, Registerer: reg}); err != nil {
			return fmt.Errorf("ASSIGND_DECISION_LOG: %w", err)
		}
	}
	return nil
}

// currentOverrides returns the calendar overrides in force: nil without
// an overrides file or before it first loads.
func (a *App) currentOverrides() *calendar.Overrides {
	if a.feat.overrides == nil {
		return nil
	}
	return a.feat.overrides.Current()
}

// overridesFunc is what the listeners read overrides through: nil
// without an overrides file, so that they skip the call.
func (a *App) overridesFunc() func() *calendar.Overrides {
	if a.feat.overrides == nil {
		return nil
	}
	return a.feat.overrides.Current
}

// policyLoaded runs for each policy about to become the running one, from
// the store's check: its experiments appear in the report before any
// decision reaches them, and overrides for calendars it lacks are warned
// of.
func (a *App) policyLoaded(p *policy.Policy) {
	if a.feat.experiments != nil {
		a.feat.experiments.Declare(p.Experiments().Set())
	}
	a.checkOverrides(p, a.currentOverrides())
}

// checkOverrides logs, as warnings, the overrides that name a calendar p
// does not define; they are kept, since the next policy may define it.
func (a *App) checkOverrides(p *policy.Policy, ov *calendar.Overrides) {
	if p == nil || ov == nil {
		return
	}
	for _, pr := range policy.CheckOverrides(p, ov) {
		a.log.Warn("calendar override for an unknown calendar", zap.String("problem", pr.String()))
	}
}

// featureObservers are the features' observers of answered callbacks.
func (a *App) featureObservers() []func(*callback.Decided) {
	obs := []func(*callback.Decided){countExperiments(a.feat.experiments)}
	if a.feat.records != nil {
		obs = append(obs, recordDecision(a.feat.records))
	}
	return obs
}

// countExperiments is the observer that counts each decision in the
// experiments it evaluated; a decision in none costs a bit test.
func countExperiments(c *experiments.Counter) func(*callback.Decided) {
	return func(d *callback.Decided) {
		c.Decided(&d.Decision.Experiments, d.Decision.Rule)
	}
}

// recordDecision is the observer that hands each decision to the decision
// log: pointers and SIDs copied into a value, nothing built; the record is
// built on the log's worker.
func recordDecision(l *decisionlog.Log) func(*callback.Decided) {
	return func(d *callback.Decided) {
		cb := d.Callback
		l.Decision(decisionlog.Input{Policy: d.Policy, Decision: d.Decision, In: d.Input,
			ReservationSid: cb.ReservationSid, TaskSid: cb.TaskSid, WorkerSid: cb.WorkerSid,
			WorkspaceSid: cb.WorkspaceSid, WorkflowSid: cb.WorkflowSid})
	}
}

// afterEvent is the callback listener's AfterEvent: each outcome counts
// for the experiment arms of the decision it is attributed to, and goes to
// the decision log as an outcome record.
func (a *App) afterEvent() func(*handlers.Event) {
	c, l := a.feat.experiments, a.feat.records
	return func(e *handlers.Event) {
		c.Outcome(e.Experiments, e.Outcome)
		if l == nil {
			return
		}
		cb := e.Callback
		l.Outcome(decisionlog.Outcome{ReservationSid: cb.ReservationSid, TaskSid: cb.TaskSid, WorkerSid: cb.WorkerSid,
			WorkspaceSid: cb.WorkspaceSid, EventType: e.EventType(), Rule: e.Rule, Instruction: e.Instruction,
			Source: string(e.Source), Received: e.Received})
	}
}

// featureAdmin adds the features' endpoints and data to the admin
// listener's options: GET /-/experiments, the overrides the explain API
// decides with, the decision log's health, and the overrides reload
// beside the policy's on POST /-/reload.
func (a *App) featureAdmin(opts *admin.Options) {
	opts.Experiments = a.experimentsReport
	opts.Overrides = a.overridesFunc()
	if a.feat.records != nil {
		opts.DecisionLog = a.feat.records.Health
	}
	if r := a.feat.overridesReloader; r != nil {
		reloadPolicy := opts.Reload
		opts.Reload = func(ctx context.Context) error {
			var err error
			if reloadPolicy != nil {
				err = reloadPolicy(ctx)
			}
			return errors.Join(err, r.Reload(ctx))
		}
	}
}

// experimentsReport is GET /-/experiments' report: the running policy's
// experiments declared first, so that an experiment no decision has
// reached yet shows with zero counts.
func (a *App) experimentsReport(mde float64) *experiments.Report {
	if p := a.store.Current(); p != nil {
		a.feat.experiments.Declare(p.Experiments().Set())
	}
	return a.feat.experiments.Report(mde)
}

// startFeatures runs the overrides reloader in the group until ctx ends.
func (a *App) startFeatures(ctx context.Context) {
	if r := a.feat.overridesReloader; r != nil {
		a.group.Go(func() error { r.Run(ctx); return nil })
	}
}

// reloadFeatures asks the overrides reloader to load its file again.
func (a *App) reloadFeatures() {
	if r := a.feat.overridesReloader; r != nil {
		r.Trigger()
	}
}

// stopFeatures writes what the decision log holds, within ctx; call it
// once callbacks and events have stopped arriving.
func (a *App) stopFeatures(ctx context.Context) error {
	if a.feat.records == nil {
		return nil
	}
	if err := a.feat.records.Close(ctx); err != nil {
		return fmt.Errorf("flushing the decision log: %w", err)
	}
	return nil
}
