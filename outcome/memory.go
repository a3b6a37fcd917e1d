// Package outcome closes the loop from decisions to what happened next: a
// bounded memory of the decisions this process made, keyed by
// ReservationSid, and of the event Sids it has seen, so that a replayed
// callback or a re-sent event counts once; the classification of
// TaskRouter's event callbacks; and the metrics that count reservation
// outcomes by rule.
package outcome

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assignd/assignd/policy/experiment"
)

// MaxWrapUp is the longest time this package expects from a decision to a
// reservation's last event, beyond the reservation timeout: completed and
// wrapup events come after the call, which may be long. An entry lives for
// ASSIGND_RESERVATION_TIMEOUT plus MaxWrapUp; an event later than that is
// attributed by deciding again.
const MaxWrapUp = time.Hour

// maxShards is how many independently locked parts the memory has, at
// most: enough that callbacks on every core rarely meet on one lock.
const maxShards = 64

// Entry is what the memory keeps of one decision.
type Entry struct {
	Rule        string
	Instruction string
	Mode        string
	PolicyHash  string
	// Decided is when the callback that was decided arrived.
	Decided time.Time
	// Experiments are the experiments the decision evaluated and their
	// arms, so that the outcome counts for the same arms: a fixed-size
	// value pointing at the policy's experiments, no allocation per entry.
	Experiments experiment.Arms
}

// Memory is the decision memory: ReservationSid to the Entry of its
// decision.
type Memory = SIDMemory[Entry]

// NewMemory returns a decision memory for capacity entries (at least 1)
// that live for ttl.
func NewMemory(capacity int, ttl time.Duration) *Memory { return NewSIDMemory[Entry](capacity, ttl) }

// SIDMemory maps a Twilio SID to a value, for at most capacity SIDs and at
// most ttl each. Put and Get are O(1); each locks one of up to 64 shards,
// chosen by the SID's hash, so concurrent callbacks and events rarely wait
// for each other. Each shard is a ring in insertion order plus a map into
// it: when a shard is full, or its oldest entry has expired, the oldest
// goes. Its memory is allocated up front and never grows.
type SIDMemory[V any] struct {
	ttl       time.Duration
	capacity  int
	seed      maphash.Seed
	shards    []shard[V]
	entries   atomic.Int64
	evictions atomic.Uint64
}

type shard[V any] struct {
	mu sync.Mutex
	// ring holds the shard's entries oldest first from head, n of them.
	ring    []slot[V]
	head, n int
	index   map[string]int
}

// slot is one entry: at is when it was put, which its age counts from.
type slot[V any] struct {
	sid string
	at  time.Time
	v   V
}

// NewSIDMemory returns a SIDMemory for capacity entries (at least 1) that
// live for ttl.
func NewSIDMemory[V any](capacity int, ttl time.Duration) *SIDMemory[V] {
	capacity = max(capacity, 1)
	n := min(capacity, maxShards)
	m := &SIDMemory[V]{ttl: ttl, seed: maphash.MakeSeed(), shards: make([]shard[V], n), capacity: capacity}
	for i := range m.shards {
		// The capacity is shared out exactly; the ring is allocated up
		// front, so that a flood of distinct SIDs costs no growth.
		per := capacity / n
		if i < capacity%n {
			per++
		}
		m.shards[i].ring = make([]slot[V], per)
		m.shards[i].index = make(map[string]int, per)
	}
	return m
}

// Capacity is the most entries m holds.
func (m *SIDMemory[V]) Capacity() int { return m.capacity }

// Len is how many entries m holds, expired ones not yet removed included.
func (m *SIDMemory[V]) Len() int { return int(m.entries.Load()) }

// Evictions is how many entries have left m before an event found them:
// pushed out by newer ones, or expired.
func (m *SIDMemory[V]) Evictions() uint64 { return m.evictions.Load() }

func (m *SIDMemory[V]) shard(sid string) *shard[V] {
	return &m.shards[maphash.String(m.seed, sid)%uint64(len(m.shards))]
}

// Put remembers v for sid, at now, and reports whether sid was new: false
// when m held it, unexpired, already (a replayed or re-sent request), and
// then the entry is replaced where it stands and its age starts again.
func (m *SIDMemory[V]) Put(sid string, v V, now time.Time) (first bool) {
	s := m.shard(sid)
	s.mu.Lock()
	defer s.mu.Unlock()
	m.expire(s, now)
	if i, ok := s.index[sid]; ok {
		// An entry kept behind a refreshed one may be older than the ttl.
		first = now.Sub(s.ring[i].at) > m.ttl
		s.ring[i].v, s.ring[i].at = v, now
		return first
	}
	if s.n == len(s.ring) {
		m.drop(s)
	}
	i := (s.head + s.n) % len(s.ring)
	// The SID is cloned: the callback's fields share one string, the
	// whole form, which the memory should not keep alive.
	sid = strings.Clone(sid)
	s.ring[i] = slot[V]{sid: sid, at: now, v: v}
	s.index[sid] = i
	s.n++
	m.entries.Add(1)
	return true
}

// Get returns the value for sid if m holds one that has not expired at now.
func (m *SIDMemory[V]) Get(sid string, now time.Time) (V, bool) {
	s := m.shard(sid)
	s.mu.Lock()
	defer s.mu.Unlock()
	m.expire(s, now)
	i, ok := s.index[sid]
	// Its own age too: Put on a known SID refreshes the entry in place,
	// so the ring's order, which expire relies on, is only nearly by age.
	if !ok || now.Sub(s.ring[i].at) > m.ttl {
		var zero V
		return zero, false
	}
	return s.ring[i].v, true
}

// expire drops the shard's expired entries, oldest first: entries are in
// insertion order and live equally long, so it stops at the first live one
// (an entry refreshed by Put may hold older ones back a while; Get checks
// each entry's own age, and the capacity bounds them all).
func (m *SIDMemory[V]) expire(s *shard[V], now time.Time) {
	for s.n > 0 && now.Sub(s.ring[s.head].at) > m.ttl {
		m.drop(s)
	}
}

// drop removes the shard's oldest entry.
func (m *SIDMemory[V]) drop(s *shard[V]) {
	old := &s.ring[s.head]
	delete(s.index, old.sid)
	*old = slot[V]{}
	s.head = (s.head + 1) % len(s.ring)
	s.n--
	m.entries.Add(-1)
	m.evictions.Add(1)
}
