package policy

import (
	"bytes"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/assignd/assignd/internal/metric"
)

// Store holds the running policy. Callbacks read it with one atomic load
// and keep the policy they started with; a reload swaps in a new policy
// only after it has parsed, so a bad file never displaces a good one.
type Store struct {
	cur atomic.Pointer[loaded]
	log *zap.Logger
	// mu serializes loads, so that the hash check and the swap agree; the
	// read path never takes it.
	mu sync.Mutex
	m  storeMetrics
	// check, when set, vets a parsed policy against the environment before
	// it may run; see SetCheck.
	check func(*Policy) error
	// which is the policy label of the store's metrics and its
	// Reloader's: "live" or "shadow".
	which string
	// last is the outcome of the last load, for LastLoad.
	last atomic.Pointer[LoadResult]
	// failing is whether the last load failed, under mu; a file rolled
	// back to the running content then clears the failure.
	failing bool
	// opts are the options of every load; see SetOptions.
	opts Options
}

type loaded struct {
	p  *Policy
	at time.Time
}

type storeMetrics struct {
	reloads       *prometheus.CounterVec
	lastOK        prometheus.Gauge
	lastOKSeconds prometheus.Gauge
	info          *prometheus.GaugeVec
}

// NewStore returns an empty Store for the live policy, whose metrics
// (assignd_policy_*{policy="live"}) are registered on reg.
func NewStore(log *zap.Logger, reg prometheus.Registerer) (*Store, error) {
	return newStore(log, reg, "policy", "live")
}

// NewShadowStore returns an empty Store for a shadow policy: the same as
// NewStore, but its logger is named shadow_policy and its metrics carry
// policy="shadow", so that one query shows both and alerts on the live
// policy select policy="live".
func NewShadowStore(log *zap.Logger, reg prometheus.Registerer) (*Store, error) {
	return newStore(log, reg, "shadow_policy", "shadow")
}

func newStore(log *zap.Logger, reg prometheus.Registerer, name, which string) (*Store, error) {
	switch {
	case log == nil:
		return nil, errors.New("policy.NewStore: no logger")
	case reg == nil:
		return nil, errors.New("policy.NewStore: no prometheus registerer")
	}
	s := &Store{log: log.Named(name), which: which}
	s.m = storeMetrics{
		reloads:       metric.CounterVec("assignd_policy_reloads_total", "Policy loads by result: success, or failure (the running policy stayed).", "result"),
		lastOK:        metric.Gauge("assignd_policy_last_reload_successful", "1 if the last policy load succeeded, 0 if it failed and an older policy still runs."),
		lastOKSeconds: metric.Gauge("assignd_policy_last_reload_success_timestamp_seconds", "When the running policy was loaded, in Unix seconds."),
		info:          metric.GaugeVec("assignd_policy_info", "The running policy's hash, as a label on a gauge that is always 1.", "hash"),
	}
	s.m.reloads.WithLabelValues("success")
	s.m.reloads.WithLabelValues("failure")
	if err := metric.Register(s.labelled(reg), "policy", s.m.reloads, s.m.lastOK, s.m.lastOKSeconds, s.m.info); err != nil {
		return nil, err
	}
	return s, nil
}

// labelled wraps reg so that every metric registered through it carries
// the store's policy label.
func (s *Store) labelled(reg prometheus.Registerer) prometheus.Registerer {
	return prometheus.WrapRegistererWith(prometheus.Labels{"policy": s.which}, reg)
}

// SetCheck makes LoadFile refuse a policy that check rejects, as it
// refuses one that does not parse: serve uses it to refuse update-mode rules
// when there are no REST credentials to send their updates with. Call it
// before the first LoadFile.
func (s *Store) SetCheck(check func(*Policy) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.check = check
}

// SetOptions sets the options LoadFile loads with, such as the table size
// limit. Call it before the first LoadFile.
func (s *Store) SetOptions(o Options) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts = o
}

// Current returns the running policy, or nil before the first load.
func (s *Store) Current() *Policy {
	if l := s.cur.Load(); l != nil {
		return l.p
	}
	return nil
}

// LoadedAt returns when the running policy was loaded.
func (s *Store) LoadedAt() time.Time {
	if l := s.cur.Load(); l != nil {
		return l.at
	}
	return time.Time{}
}

// Set makes p the running policy.
func (s *Store) Set(p *Policy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.swap(p)
	s.record(nil)
}

func (s *Store) swap(p *Policy) {
	prev := s.Current()
	s.failing = false
	now := time.Now()
	s.cur.Store(&loaded{p: p, at: now})
	s.m.reloads.WithLabelValues("success").Inc()
	s.m.lastOK.Set(1)
	s.m.lastOKSeconds.Set(float64(now.UnixNano()) / 1e9)
	s.m.info.Reset()
	s.m.info.WithLabelValues(p.Hash()).Set(1)
	fields := []zap.Field{
		zap.String("file", p.File()),
		zap.Int("rules", len(p.rules)),
		zap.Int("tables", len(p.tables)),
		zap.String("hash", p.Hash()),
		zap.Int("warnings", len(p.warnings)),
	}
	if prev != nil {
		fields = append(fields, zap.String("previous_hash", prev.Hash()))
	}
	s.log.Info("policy loaded", fields...)
	for _, w := range p.warnings {
		s.log.Warn("policy warning", zap.String("problem", w.String()))
	}
}

// LoadFile loads path with the package's LoadFileWith and the store's
// options and, if the policy is good and differs from the running one,
// makes it the running policy. A policy and tables with the running
// bundle's hash change nothing. On any error the running
// policy stays, the failure is logged with every problem and counted, and
// the error returned.
func (s *Store) LoadFile(path string) (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.record(err) }()
	// The bytes are compared before anything is parsed: a reload of an
	// unchanged file, which anyone who can reach POST /-/reload can ask for
	// in a loop, costs a read and a comparison, not a parse. A policy with
	// tables is parsed, tables and all, and compared by its bundle hash,
	// since a table may have changed under an unchanged file.
	src, err := readFile(path)
	if err != nil {
		s.fail(err)
		return false, err
	}
	cur := s.Current()
	unchanged := cur != nil && cur.file == path && len(cur.tables) == 0 && bytes.Equal(cur.source, src)
	var p *Policy
	if !unchanged {
		if p, err = ParseWith(path, src, s.opts); err != nil {
			s.fail(err)
			return false, err
		}
		unchanged = cur != nil && cur.file == p.file && cur.hash == p.hash
	}
	if unchanged {
		// Nothing to swap, but the load succeeded: a refused file rolled
		// back to the running content must clear the failure, or the
		// reload alert never resolves.
		if s.failing {
			s.failing = false
			s.m.lastOK.Set(1)
			s.log.Info("policy file back to the running policy", zap.String("file", cur.File()), zap.String("hash", cur.Hash()))
		}
		return false, nil
	}
	if s.check != nil {
		if err := s.check(p); err != nil {
			s.fail(err)
			return false, err
		}
	}
	s.swap(p)
	return true, nil
}

func (s *Store) fail(err error) {
	s.failing = true
	s.m.reloads.WithLabelValues("failure").Inc()
	s.m.lastOK.Set(0)
	problems := Problems(err)
	fields := []zap.Field{zap.Strings("problems", problems), zap.Int("count", len(problems))}
	cur := s.Current()
	if cur == nil {
		s.log.Error("policy load failed, no policy running", fields...)
		return
	}
	fields = append(fields, zap.String("running_hash", cur.Hash()))
	s.log.Error("policy load failed, keeping the running policy", fields...)
}

// Summary is a one-line account of a policy, for validate and logs.
func Summary(p *Policy) string {
	return plural(len(p.rules), "rule") + tableSummary(p.tables) + ", hash " + p.Hash() + ", " + plural(len(p.warnings), "warning")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
