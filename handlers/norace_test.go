//go:build !race

package handlers

import "testing"

// raceSlowdown is 1: without the race detector the attack test's latency
// bounds are the issue's.
const raceSlowdown = 1

// processMemory is the memory the attack test bounds: the process's RSS.
func processMemory(t *testing.T) int64 { return rssBytes(t) }
