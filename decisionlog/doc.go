// Package decisionlog keeps a record of every decision: one JSON object a
// line with the policy's hash, the deciding rule, its instruction and mode,
// the rule trace and the values of everything the policy read, masked as
// the policy's decision_log section says; and an outcome record for the
// same reservation when its event arrives. Records go to stdout, a rotated
// file or an HTTP collector.
//
// The callback path pays only for handing an Input to a bounded buffer: it
// never waits for a sink, and a full buffer drops the record and counts it.
// A background worker re-runs the pure (*policy.Policy).Explain on the
// recorded inputs for the trace, masks, encodes and writes. Reader reads the
// records back, for assignd replay.
package decisionlog
