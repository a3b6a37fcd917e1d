//go:build !race

package handlers

import "testing"

// processMemory is the memory the attack test bounds: the process's RSS.
func processMemory(t *testing.T) int64 { return rssBytes(t) }
