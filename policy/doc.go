// Package policy is the routing policy: a YAML file of ordered rules, each
// a condition in TaskRouter's expression language (package policy/expr)
// and an instruction with parameters. Parse does all the fallible work and
// reports every problem with file, line, rule and field; (*Policy).Decide
// is pure, allocation-free and always decides. Store holds the running
// policy for concurrent readers, and Reloader swaps in a new one when the
// file changes, keeping the running one when the new one does not load.
package policy
