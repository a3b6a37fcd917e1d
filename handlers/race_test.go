//go:build race

package handlers

import (
	rtmetrics "runtime/metrics"
	"testing"
)

// processMemory is the memory the attack test bounds. Under the race
// detector the RSS is mostly the detector's shadow memory, several times
// every byte the process touches, which production does not have; so this
// is the Go runtime's own memory, mapped and not returned to the system,
// the part of the RSS that production has.
func processMemory(t *testing.T) int64 {
	t.Helper()
	s := []rtmetrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	rtmetrics.Read(s)
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64())
}
