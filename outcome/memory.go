// Package outcome closes the loop from decisions to what happened next: a
// bounded memory of the decisions this process made, keyed by
// ReservationSid, the classification of TaskRouter's event callbacks, and
// the metrics that count reservation outcomes by rule.
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

// Memory maps ReservationSid to the Entry of its decision, for at most
// capacity reservations and at most ttl each. Put and Get are O(1); each
// locks one of up to 64 shards, chosen by the SID's hash, so concurrent callbacks
// and events rarely wait for each other. Each shard is a ring in insertion
// order plus a map into it: when a shard is full, or its oldest entry has
// expired, the oldest goes.
type Memory struct {
	ttl       time.Duration
	capacity  int
	seed      maphash.Seed
	shards    []shard
	entries   atomic.Int64
	evictions atomic.Uint64
}

type shard struct {
	mu sync.Mutex
	// ring holds the shard's entries oldest first from head, n of them.
	ring    []slot
	head, n int
	index   map[string]int
}

type slot struct {
	sid string
	e   Entry
}

// NewMemory returns a Memory for capacity entries (at least 1) that live
// for ttl.
func NewMemory(capacity int, ttl time.Duration) *Memory {
	capacity = max(capacity, 1)
	n := min(capacity, maxShards)
	m := &Memory{ttl: ttl, seed: maphash.MakeSeed(), shards: make([]shard, n), capacity: capacity}
	for i := range m.shards {
		// The capacity is shared out exactly; the ring is allocated up
		// front, so that a flood of distinct SIDs costs no growth.
		per := capacity / n
		if i < capacity%n {
			per++
		}
		m.shards[i].ring = make([]slot, per)
		m.shards[i].index = make(map[string]int, per)
	}
	return m
}

// Capacity is the most entries m holds.
func (m *Memory) Capacity() int { return m.capacity }

// Len is how many entries m holds, expired ones not yet removed included.
func (m *Memory) Len() int { return int(m.entries.Load()) }

// Evictions is how many entries have left m before an event found them:
// pushed out by newer ones, or expired.
func (m *Memory) Evictions() uint64 { return m.evictions.Load() }

func (m *Memory) shard(sid string) *shard {
	return &m.shards[maphash.String(m.seed, sid)%uint64(len(m.shards))]
}

// Put remembers e for sid, at now; a second Put for the same SID (a
// replayed callback) replaces the entry where it stands.
func (m *Memory) Put(sid string, e Entry, now time.Time) {
	s := m.shard(sid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index[sid]; ok {
		s.ring[i].e = e
		return
	}
	m.expire(s, now)
	if s.n == len(s.ring) {
		m.drop(s)
	}
	i := (s.head + s.n) % len(s.ring)
	// The SID is cloned: the callback's fields share one string, the
	// whole form, which the memory should not keep alive.
	sid = strings.Clone(sid)
	s.ring[i] = slot{sid: sid, e: e}
	s.index[sid] = i
	s.n++
	m.entries.Add(1)
}

// Get returns the entry for sid if m holds one that has not expired at now.
func (m *Memory) Get(sid string, now time.Time) (Entry, bool) {
	s := m.shard(sid)
	s.mu.Lock()
	defer s.mu.Unlock()
	m.expire(s, now)
	i, ok := s.index[sid]
	// Its own age too: Put on a known SID refreshes the entry in place,
	// so the ring's order, which expire relies on, is only nearly by age.
	if !ok || now.Sub(s.ring[i].e.Decided) > m.ttl {
		return Entry{}, false
	}
	return s.ring[i].e, true
}

// expire drops the shard's expired entries, oldest first: entries are in
// insertion order and live equally long, so it stops at the first live one
// (an entry refreshed by Put may hold older ones back a while; Get checks
// each entry's own age, and the capacity bounds them all).
func (m *Memory) expire(s *shard, now time.Time) {
	for s.n > 0 && now.Sub(s.ring[s.head].e.Decided) > m.ttl {
		m.drop(s)
	}
}

// drop removes the shard's oldest entry.
func (m *Memory) drop(s *shard) {
	old := &s.ring[s.head]
	delete(s.index, old.sid)
	*old = slot{}
	s.head = (s.head + 1) % len(s.ring)
	s.n--
	m.entries.Add(-1)
	m.evictions.Add(1)
}
