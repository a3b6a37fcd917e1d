package app

import (
	"fmt"
	"math"

	"github.com/assignd/assignd/outcome"
)

// DecisionMemoryShare is the largest fraction of GOMEMLIMIT the decision
// memory may fill, as 1/DecisionMemoryShare: the rest is for callbacks in
// flight, the policies, the update queue and the collector's headroom.
const DecisionMemoryShare = 4

// checkDecisionMemory refuses an ASSIGND_DECISION_MEMORY of entries whose
// full size, at outcome.EntryBytes each, exceeds 1/DecisionMemoryShare of
// limit, the process's memory limit (GOMEMLIMIT, as
// debug.SetMemoryLimit(-1) reports it; math.MaxInt64 when it is not set,
// and then nothing is refused). A memory that does not fit would fill over
// hours of traffic and end the pod at its limit, far from its cause.
func checkDecisionMemory(entries int, limit int64) error {
	if limit == math.MaxInt64 {
		return nil
	}
	need := int64(entries) * outcome.EntryBytes
	allowed := limit / DecisionMemoryShare
	if need <= allowed {
		return nil
	}
	return fmt.Errorf("ASSIGND_DECISION_MEMORY: %d entries need up to %s (%d bytes each), more than 1/%d of GOMEMLIMIT (%s): "+
		"set it to at most %d, or GOMEMLIMIT to at least %s",
		entries, mib(need), outcome.EntryBytes, DecisionMemoryShare, mib(limit),
		allowed/outcome.EntryBytes, mib(need*DecisionMemoryShare))
}

// mib formats n bytes in MiB, rounded up.
func mib(n int64) string { return fmt.Sprintf("%dMiB", (n+1<<20-1)>>20) }
