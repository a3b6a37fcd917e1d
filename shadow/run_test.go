package shadow

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/policy"
)

// TestRunRestsInProportion runs the shadow's goroutine on a clock that
// makes every evaluation take 100µs, with the default quarter of a core:
// it owes 300µs of rest per evaluation, and rests once the debt reaches a
// millisecond, so eight evaluations give two rests of 1.2ms.
func TestRunRestsInProportion(t *testing.T) {
	_, _, e := newCandidate(t)
	var mu sync.Mutex
	var now time.Time
	var rests []time.Duration
	e.clock = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(100 * time.Microsecond)
		return now
	}
	e.rest = func(_ context.Context, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		rests = append(rests, d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	live := policy.Decision{Rule: "live", Mode: policy.Respond, Instruction: policy.Instruction{Name: policy.Dequeue}}
	for range 8 {
		e.Observe(&callback.Decided{Callback: &callback.Callback{ReservationSid: "WR1"},
			Input: &policy.Input{Task: map[string]any{"language": "es"}}, Decision: &live})
	}
	for e.Agreement().SinceStart.Total < 8 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if want := []time.Duration{1200 * time.Microsecond, 1200 * time.Microsecond}; !slices.Equal(rests, want) {
		t.Errorf("rests %v, want %v", rests, want)
	}
}
