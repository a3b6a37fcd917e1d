package outcome

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/assignd/assignd/policy/experiment"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sid(i int) string { return fmt.Sprintf("WR%032x", i) }

func TestMemory(t *testing.T) {
	tests := []struct {
		name      string
		capacity  int
		puts      int
		at        time.Duration // when the Get happens, after t0
		get       int
		want      bool
		evictions uint64
	}{
		{name: "remembered", capacity: 1000, puts: 10, get: 3, want: true},
		{name: "never put", capacity: 1000, puts: 10, get: 11, want: false},
		{name: "pushed out by newer ones", capacity: 64, puts: 64 * 10, get: 0, want: false, evictions: 64 * 9},
		{name: "newest kept when full", capacity: 64, puts: 64 * 10, get: 64*10 - 1, want: true, evictions: 64 * 9},
		{name: "expired", capacity: 1000, puts: 10, at: 2 * time.Hour, get: 3, want: false, evictions: 10},
		{name: "not yet expired", capacity: 1000, puts: 10, at: time.Hour, get: 3, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMemory(tt.capacity, time.Hour)
			for i := range tt.puts {
				m.Put(sid(i), Entry{Rule: "r", Decided: t0}, t0)
			}
			_, ok := m.Get(sid(tt.get), t0.Add(tt.at))
			if ok != tt.want {
				t.Errorf("Get(%d) found %v, want %v", tt.get, ok, tt.want)
			}
			// Expiry is lazy, one shard at a time: count only what is certain.
			if tt.at == 0 && m.Evictions() != tt.evictions {
				t.Errorf("evictions = %d, want %d", m.Evictions(), tt.evictions)
			}
			if tt.at > 0 && tt.evictions > 0 && m.Evictions() == 0 {
				t.Errorf("no evictions after expiry")
			}
			if m.Len() > m.Capacity() {
				t.Errorf("Len %d > Capacity %d", m.Len(), m.Capacity())
			}
		})
	}
}

func TestMemoryReplaces(t *testing.T) {
	m := NewMemory(100, time.Hour)
	m.Put(sid(1), Entry{Rule: "first", Decided: t0}, t0)
	m.Put(sid(1), Entry{Rule: "second", Decided: t0}, t0)
	if e, _ := m.Get(sid(1), t0); e.Rule != "second" || m.Len() != 1 {
		t.Errorf("after a second Put: rule %q, len %d; want second, 1", e.Rule, m.Len())
	}
}

// TestMemoryBound sends 200,000 distinct ReservationSids through the
// tracker, from several goroutines, and checks that the entries gauge
// never passes the capacity and the heap does not grow with the SIDs.
func TestMemoryBound(t *testing.T) {
	const capacity, sids, workers = 10_000, 200_000, 8
	reg := prometheus.NewRegistry()
	tr, err := New(Options{Capacity: capacity, TTL: time.Hour, Registerer: reg, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < sids; i += workers {
				tr.Remember(sid(i), Entry{Rule: "vip", Instruction: "accept", Decided: t0})
				tr.Lookup(sid(i))
			}
		})
	}
	wg.Wait()
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)

	// Every shard is full after 20 times its share of uniformly hashed SIDs.
	entries := float64(tr.Memory().Len())
	if g := gather(t, reg, "assignd_decision_memory_entries"); g != entries || g != capacity {
		t.Errorf("assignd_decision_memory_entries = %v (Len %v), want the capacity, %d", g, entries, capacity)
	}
	tr.Remember(sid(sids), Entry{Rule: "vip", Instruction: "accept", Decided: t0})
	if e, ok := tr.Lookup(sid(sids)); !ok || e.Rule != "vip" {
		t.Errorf("the newest SID is not remembered")
	}
	if ev := gather(t, reg, "assignd_decision_memory_evictions_total"); ev != sids+1-entries {
		t.Errorf("evictions = %v, want %v", ev, sids+1-entries)
	}
	// 10,000 entries of ~200 bytes; 200,000 would be ten times that.
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Errorf("heap grew by %d bytes for a %d-entry memory", grew, capacity)
	}
}

func gather(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if m.Gauge != nil {
			return m.Gauge.GetValue()
		}
		return m.Counter.GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Outcome
		ok   bool
	}{
		{"reservation.accepted", Accepted, true},
		{"reservation.rejected", Rejected, true},
		{"reservation.timeout", Timeout, true},
		{"reservation.canceled", Canceled, true},
		{"reservation.rescinded", Rescinded, true},
		{"reservation.completed", Completed, true},
		{"reservation.wrapup", Wrapup, true},
		{"reservation.created", "", false},
		{"reservation.failed", "", false},
		{"reservation.", "", false},
		{"task.completed", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := Parse([]byte(tt.in))
			if got != tt.want || ok != tt.ok {
				t.Errorf("Parse(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestTrackerCounts(t *testing.T) {
	tr, err := New(Options{Capacity: 10, TTL: time.Hour, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	tr.Record(Accepted, "vip", "accept", Remembered, 3*time.Second)
	tr.Record(Accepted, "vip", "accept", Remembered, 3*time.Second)
	tr.Record(Timeout, "vip", "accept", Recomputed, 0)
	c := tr.Counts()["vip"]
	if c.Remembered[Accepted] != 2 || c.Recomputed[Timeout] != 1 || len(c.Remembered) != 1 || len(c.Recomputed) != 1 {
		t.Errorf("counts = %+v", c)
	}
	if got := testutil.ToFloat64(tr.outcomes.WithLabelValues("vip", "accept", "accepted", "remembered")); got != 2 {
		t.Errorf("outcomes{accepted,remembered} = %v, want 2", got)
	}
}

// TestTrackerSummary pins the console's per-rule line: remembered and
// recomputed together, in the order of Outcomes, and nothing for a rule
// without events.
func TestTrackerSummary(t *testing.T) {
	tr, err := New(Options{Capacity: 10, TTL: time.Hour, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	tr.Record(Timeout, "vip", "accept", Recomputed, 0)
	tr.Record(Accepted, "vip", "accept", Remembered, time.Second)
	tr.Record(Accepted, "vip", "accept", Recomputed, 0)
	if got, want := tr.Summary("vip"), "accepted 2, timeout 1"; got != want {
		t.Errorf("Summary(vip) = %q, want %q", got, want)
	}
	if got := tr.Summary("default"); got != "" {
		t.Errorf("Summary(default) = %q, want none", got)
	}
}

// TestMemoryRefreshKeepsAges checks that an entry refreshed in place (a
// fallback callback for a known reservation) does not keep an older entry
// behind it in the ring alive past its own age.
func TestMemoryRefreshKeepsAges(t *testing.T) {
	m := NewMemory(128, time.Hour) // 64 shards of two
	a, b := sid(1), ""
	for i := 2; b == ""; i++ {
		if m.shard(sid(i)) == m.shard(a) {
			b = sid(i)
		}
	}
	m.Put(a, Entry{Rule: "a", Decided: t0}, t0)
	m.Put(b, Entry{Rule: "b", Decided: t0.Add(10 * time.Minute)}, t0.Add(10*time.Minute))
	m.Put(a, Entry{Rule: "a", Decided: t0.Add(50 * time.Minute)}, t0.Add(50*time.Minute))
	at := t0.Add(75 * time.Minute)
	if _, ok := m.Get(b, at); ok {
		t.Errorf("b, decided 65 minutes before, is still remembered behind the refreshed a")
	}
	if e, ok := m.Get(a, at); !ok || e.Rule != "a" {
		t.Errorf("a, refreshed 25 minutes before, is gone")
	}
}

// TestMemoryKeepsArms: the experiments a decision evaluated come back
// with its entry, so that the outcome counts for the same arm.
func TestMemoryKeepsArms(t *testing.T) {
	split, err := experiment.NewSplit("vip_conference", "", []experiment.Arm{{Name: "control", Weight: 80}, {Name: "treatment", Weight: 20}})
	if err != nil {
		t.Fatal(err)
	}
	var arms experiment.Arms
	arms.Record(experiment.NewSet([]*experiment.Split{split}), 0, 1, false)
	m := NewMemory(4, time.Minute)
	m.Put("WR1", Entry{Rule: "vip-conference", Decided: t0, Experiments: arms}, t0)
	e, ok := m.Get("WR1", t0)
	if exp, arm, in := e.Experiments.Get(0); !ok || !in || exp != "vip_conference" || arm != "treatment" {
		t.Errorf("remembered arms: %q %q %v", exp, arm, in)
	}
	if n := testing.AllocsPerRun(100, func() { m.Put("WR1", Entry{Rule: "r", Decided: t0, Experiments: arms}, t0) }); n != 0 {
		t.Errorf("replacing an entry with arms allocates %v times", n)
	}
}
