package outcome

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestEntryBytes measures what one unit of ASSIGND_DECISION_MEMORY costs
// on the heap, a full tracker's decision and event Sid with their share of
// the maps, and checks that EntryBytes states it: not below it, and not so
// far above it that the start-up check would refuse sizes that fit.
func TestEntryBytes(t *testing.T) {
	const n = 100_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr, err := New(Options{Capacity: n, TTL: time.Hour, Registerer: prometheus.NewRegistry(), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		// SIDs as long as Twilio's, each its own allocation, as a
		// callback's would be once the memory has cloned it.
		tr.Remember(sid(i), Entry{Rule: "vip", Instruction: "accept", Mode: "respond", PolicyHash: "h", Decided: t0})
		tr.CountEvent([]byte("reservation.accepted"), fmt.Appendf(nil, "EV%032x", i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(tr)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("%d bytes per ASSIGND_DECISION_MEMORY entry (EntryBytes %d)", per, EntryBytes)
	if per > EntryBytes || per < EntryBytes/2 {
		t.Errorf("an entry costs %d bytes; EntryBytes (%d) should state it", per, EntryBytes)
	}
}
