package admin

import (
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/policy"
)

// decided is a decided callback for rule at t.
func decided(rule string, t time.Time) *callback.Decided {
	return &callback.Decided{Callback: &callback.Callback{ReservationSid: "WR0123456789abcdef0123456789abcdef"},
		Decision: &policy.Decision{Rule: rule, Instruction: policy.Instruction{Name: "accept"}, Mode: policy.Respond},
		Received: t}
}

// httptestGet is a GET request for path.
// httptestGet is a GET of path on the admin listener, addressed as a
// port-forward addresses it (an IP literal Host).
func httptestGet(path string) *http.Request { return adminGet(path) }

// adminGet is a GET of path addressed as a port-forward addresses the
// admin listener: an IP literal Host, which its Host check passes.
func adminGet(path string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Host = "127.0.0.1:9090"
	return r
}

func TestMinuteRing(t *testing.T) {
	base := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	at := func(min, sec int) time.Time {
		return base.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
	}
	for _, tc := range []struct {
		name string
		adds []time.Time
		now  time.Time
		want map[int]uint64 // index in Counts: count; the rest 0
	}{
		{"empty", nil, at(0, 0), nil},
		{"one minute", []time.Time{at(0, 1), at(0, 59)}, at(0, 30), map[int]uint64{59: 2}},
		{"spread", []time.Time{at(0, 0), at(1, 0), at(1, 1), at(59, 0)}, at(59, 0), map[int]uint64{0: 1, 1: 2, 59: 1}},
		{"an hour on, the slot restarts", []time.Time{at(0, 0), at(0, 0), at(60, 0)}, at(60, 0), map[int]uint64{59: 1}},
		{"older than an hour is gone", []time.Time{at(0, 0)}, at(60, 0), nil},
		{"late event older than the slot's minute is dropped", []time.Time{at(60, 0), at(0, 0)}, at(60, 0), map[int]uint64{59: 1}},
		{"the future is not shown", []time.Time{at(5, 0)}, at(4, 0), nil},
		{"before the epoch", []time.Time{time.Unix(-500, 0)}, time.Unix(0, 0), map[int]uint64{59: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r MinuteRing
			for _, a := range tc.adds {
				r.Add(a)
			}
			got := r.Counts(tc.now)
			for i, n := range got {
				if n != tc.want[i] {
					t.Errorf("minute %d: %d, want %d (all %v)", i, n, tc.want[i], got)
				}
			}
		})
	}
}

func TestMinuteRingSaturates(t *testing.T) {
	var r MinuteRing
	now := time.Unix(1_800_000_000, 0)
	r.slots[minuteOf(now)%Minutes].Store(minuteOf(now)<<countBits | (countMax - 1))
	r.Add(now)
	r.Add(now)
	if got := r.Counts(now)[Minutes-1]; got != countMax {
		t.Errorf("count %d, want it held at %d", got, countMax)
	}
}

// TestMinuteRingConcurrent adds from many goroutines at once; under -race
// it also shows that the ring needs no lock.
func TestMinuteRingConcurrent(t *testing.T) {
	var r MinuteRing
	now := time.Unix(1_800_000_000, 0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				r.Add(now.Add(time.Duration((g+i)%2) * time.Minute))
			}
		})
	}
	wg.Wait()
	got := r.Counts(now.Add(time.Minute))
	if got[Minutes-2]+got[Minutes-1] != 4000 || got[Minutes-1] != 2000 {
		t.Errorf("counted %d + %d, want 2000 + 2000", got[Minutes-2], got[Minutes-1])
	}
}

// TestMinuteRingNoAllocs pins the callback path: the ring adds no
// allocation, and the console's observer allocates what it did before the
// ring (the kept decision and its reservation SID), however many rules.
func TestMinuteRingNoAllocs(t *testing.T) {
	var r MinuteRing
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() { r.Add(now) }); n != 0 {
		t.Errorf("MinuteRing.Add allocates %.0f times, want 0", n)
	}
	l := NewDecisionLog()
	d := decided("default", now)
	l.Observe(d) // the rule's counters are made once
	if n := testing.AllocsPerRun(1000, func() { l.Observe(d) }); n != 2 {
		t.Errorf("DecisionLog.Observe allocates %.0f times, want 2", n)
	}
}

// TestMinuteRingTakesNoLock holds the ring to atomics: its file imports no
// package that locks.
func TestMinuteRingTakesNoLock(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "minutes.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p != "sync/atomic" && p != "time" {
			t.Errorf("minutes.go imports %s; the ring may use only sync/atomic", p)
		}
	}
}

// BenchmarkDecisionLogObserve is the console's observer on the callback
// path, per-minute ring included.
func BenchmarkDecisionLogObserve(b *testing.B) {
	l := NewDecisionLog()
	d := decided("default", time.Now())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Observe(d)
		}
	})
}
