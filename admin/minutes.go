package admin

import (
	"sync/atomic"
	"time"
)

// Minutes is how many minutes a MinuteRing keeps: the console's
// sparklines span the last hour.
const Minutes = 60

// countBits is how many low bits of a MinuteRing slot hold the count; the
// bits above hold the minute (Unix time / 60) the count is for. A count
// stops at its maximum, 16.7 million decisions a minute for one rule,
// rather than spill into the minute.
const countBits = 24

const countMax = 1<<countBits - 1

// MinuteRing counts events per minute over the last Minutes minutes,
// without a lock and without allocating: each slot is one atomic word
// holding a minute and its count, so that an Add that finds a stale
// minute starts the slot afresh with one compare-and-swap. The zero value
// is ready to use.
type MinuteRing struct {
	slots [Minutes]atomic.Uint64
}

// minuteOf is t's minute since the Unix epoch; times before it are minute 0.
func minuteOf(t time.Time) uint64 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	return uint64(s / 60)
}

// Add counts one event at t.
func (r *MinuteRing) Add(t time.Time) {
	m := minuteOf(t)
	slot := &r.slots[m%Minutes]
	for {
		old := slot.Load()
		next := m<<countBits | 1
		if old>>countBits == m {
			if old&countMax == countMax {
				return
			}
			next = old + 1
		} else if old>>countBits > m {
			// A later minute already owns the slot: t is over an hour
			// older than an event already counted.
			return
		}
		if slot.CompareAndSwap(old, next) {
			return
		}
	}
}

// Counts returns the events of each of the Minutes minutes up to and
// including now's, oldest first.
func (r *MinuteRing) Counts(now time.Time) [Minutes]uint64 {
	var out [Minutes]uint64
	last := minuteOf(now)
	for i := range uint64(Minutes) {
		m := last - (Minutes - 1) + i
		if last < Minutes-1-i {
			continue
		}
		if v := r.slots[m%Minutes].Load(); v>>countBits == m {
			out[i] = v & countMax
		}
	}
	return out
}
