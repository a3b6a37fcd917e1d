package testkit

import (
	"sync/atomic"
	"testing"
	"time"
)

// WaitFor polls cond until it holds, failing t if it does not within 10 s:
// a bound on a hang, not a latency the test asserts.
func WaitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// LagMeter measures, until the test ends, how late timers fire on this
// machine: the bound on how far a wall-clock observation can trail the
// moment it observes.
func LagMeter(t testing.TB) func() time.Duration {
	stop := make(chan struct{})
	var worst atomic.Int64
	go func() {
		const tick = 5 * time.Millisecond
		for {
			start := time.Now()
			select {
			case <-stop:
				return
			case <-time.After(tick):
			}
			if lag := int64(time.Since(start) - tick); lag > worst.Load() {
				worst.Store(lag)
			}
		}
	}()
	t.Cleanup(func() { close(stop) })
	return func() time.Duration { return time.Duration(worst.Load()) }
}
