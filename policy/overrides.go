package policy

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/assignd/assignd/internal/metric"
	"github.com/assignd/assignd/policy/calendar"
)

// LoadOverrides reads and parses the calendar overrides file at path
// (ASSIGND_OVERRIDES_FILE), within the limits of a policy file. now is the
// load time: the start of an override without from, and what decides
// which overrides have ended. Problems come back as a *LoadError with
// file and line.
func LoadOverrides(path string, now time.Time) (*calendar.Overrides, []byte, error) {
	src, err := readFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("overrides: %w", err)
	}
	ov, problems := calendar.ParseOverrides(path, src, now)
	if len(problems) > 0 {
		return nil, src, calendarLoadError(path, problems)
	}
	return ov, src, nil
}

// calendarLoadError turns calendar problems into a *LoadError.
func calendarLoadError(file string, problems []calendar.Problem) *LoadError {
	le := &LoadError{}
	for _, p := range problems {
		le.Problems = append(le.Problems, Problem{File: file, Line: p.Line, Field: p.Field, Msg: p.Msg})
	}
	return le
}

// CheckOverrides returns the problems of overrides that name a calendar p
// does not define, for validate; serve logs them and keeps the overrides,
// since the next policy may define the calendar.
func CheckOverrides(p *Policy, ov *calendar.Overrides) []Problem {
	var out []Problem
	known := "it has no calendars section"
	if names := p.calendars.Names(); len(names) > 0 {
		known = "it defines " + strings.Join(names, ", ")
	}
	for _, pr := range ov.Unknown(func(name string) bool { return p.calendars.Lookup(name) != nil }) {
		out = append(out, Problem{File: ov.File(), Line: pr.Line, Field: pr.Field, Msg: fmt.Sprintf("%s in policy %s; %s", pr.Msg, p.File(), known)})
	}
	return out
}

// OverridesStore holds the running calendar overrides. Callbacks read them
// with one atomic load; a reload swaps in a new set only after it has
// parsed, so a bad file never displaces a good one (keep-last-good, as the
// policy Store does).
type OverridesStore struct {
	cur  atomic.Pointer[overridesLoaded]
	mu   sync.Mutex // serializes loads
	log  *zap.Logger
	now  func() time.Time
	m    overridesMetrics
	last []byte // the running file's source, under mu
	// onLoad, when set, is called with each newly running set, under mu.
	onLoad func(*calendar.Overrides)
}

// SetOnLoad makes every load that changes the running overrides call f
// with them, so that serve can check them against the running policy.
// Call it before the first LoadFile.
func (s *OverridesStore) SetOnLoad(f func(*calendar.Overrides)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onLoad = f
}

type overridesLoaded struct{ ov *calendar.Overrides }

type overridesMetrics struct {
	reloads *prometheus.CounterVec
	lastOK  prometheus.Gauge
	active  prometheus.Gauge
	ended   prometheus.Gauge
}

// NewOverridesStore returns an empty OverridesStore, whose metrics
// (assignd_overrides_*) are registered on reg.
func NewOverridesStore(log *zap.Logger, reg prometheus.Registerer) (*OverridesStore, error) {
	switch {
	case log == nil:
		return nil, errors.New("policy.NewOverridesStore: no logger")
	case reg == nil:
		return nil, errors.New("policy.NewOverridesStore: no prometheus registerer")
	}
	s := &OverridesStore{log: log.Named("overrides"), now: time.Now}
	s.m = overridesMetrics{
		reloads: metric.CounterVec("assignd_overrides_reloads_total", "Calendar overrides file loads by result: success, or failure (the running overrides stayed).", "result"),
		lastOK:  metric.Gauge("assignd_overrides_last_reload_successful", "1 if the last overrides load succeeded, 0 if it failed and older overrides still apply."),
		active:  metric.Gauge("assignd_overrides_loaded", "Overrides in force or to come in the running overrides file."),
		ended:   metric.Gauge("assignd_overrides_ended", "Overrides in the running file that had ended when it was loaded, and are ignored."),
	}
	s.m.reloads.WithLabelValues("success")
	s.m.reloads.WithLabelValues("failure")
	if err := metric.Register(reg, "overrides", s.m.reloads, s.m.lastOK, s.m.active, s.m.ended); err != nil {
		return nil, err
	}
	return s, nil
}

// Current returns the running overrides; nil (none) before the first load.
func (s *OverridesStore) Current() *calendar.Overrides {
	if l := s.cur.Load(); l != nil {
		return l.ov
	}
	return nil
}

// LoadFile loads the overrides file at path and, if it parses, makes it
// the running set. A file whose content is unchanged is not parsed again,
// so the from of an override without one stays the time it first loaded.
// On any error the running overrides stay, and the failure is logged,
// counted and returned.
func (s *OverridesStore) LoadFile(path string) (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ov, src, err := LoadOverrides(path, s.now())
	if src != nil && s.Current() != nil && bytes.Equal(src, s.last) {
		s.m.lastOK.Set(1)
		return false, nil
	}
	if err != nil {
		s.m.reloads.WithLabelValues("failure").Inc()
		s.m.lastOK.Set(0)
		var problems []string
		var le *LoadError
		if errors.As(err, &le) {
			for _, p := range le.Problems {
				problems = append(problems, p.String())
			}
		} else {
			problems = append(problems, err.Error())
		}
		s.log.Error("overrides load failed, keeping the running overrides", zap.Strings("problems", problems))
		return false, err
	}
	s.last = src
	s.cur.Store(&overridesLoaded{ov: ov})
	s.m.reloads.WithLabelValues("success").Inc()
	s.m.lastOK.Set(1)
	s.m.active.Set(float64(len(ov.All())))
	s.m.ended.Set(float64(ov.Ended()))
	s.log.Info("overrides loaded", zap.String("file", path), zap.Int("overrides", len(ov.All())), zap.Int("ended", ov.Ended()))
	if s.onLoad != nil {
		s.onLoad(ov)
	}
	return true, nil
}

// NewOverridesReloader returns a Reloader for the overrides file at path:
// the policy's watch, debounce and trigger loop, loading into store. Its
// watch-error counter carries policy="overrides".
func NewOverridesReloader(store *OverridesStore, path string, log *zap.Logger, reg prometheus.Registerer) (*Reloader, error) {
	switch {
	case store == nil:
		return nil, errors.New("policy.NewOverridesReloader: no store")
	case log == nil:
		return nil, errors.New("policy.NewOverridesReloader: no logger")
	case reg == nil:
		return nil, errors.New("policy.NewOverridesReloader: no prometheus registerer")
	}
	return newReloader(store.LoadFile, path, log.Named("overrides"), prometheus.WrapRegistererWith(prometheus.Labels{"policy": "overrides"}, reg))
}
