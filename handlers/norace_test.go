//go:build !race

package handlers

import "testing"

// latencyBound is true: without the race detector the attack test holds
// the latency bounds.
const latencyBound = true

// processMemory is the memory the attack test bounds: the process's RSS.
func processMemory(t *testing.T) int64 { return rssBytes(t) }
