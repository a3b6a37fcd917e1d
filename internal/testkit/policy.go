package testkit

import (
	"fmt"
	"strings"
)

// CatchAllReply is the reply of the catch-all rule of PolicySource's
// policies, as assignd writes it.
const CatchAllReply = `{"instruction":"dequeue","from":"+15005550006","to":"client:default"}`

// PolicySource returns a respond-mode policy of n rules (n >= 1) in which
// rule r<i> matches only a task whose language is "l<i>" and a worker with
// skill "s<i>", and the last rule, the catch-all "default", answers
// CatchAllReply. A callback with any other language is decided by the
// catch-all after every other rule's condition was evaluated, which is
// what benchmarks and load tests of n rules want to measure.
func PolicySource(n int) string {
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n")
	for i := range n - 1 {
		fmt.Fprintf(&b, "  - name: r%d\n    when: task.language == \"l%d\" AND worker.skills HAS \"s%d\"\n    instruction: dequeue\n    params: {from: \"+15005550006\", to: \"client:w%d\"}\n", i, i, i, i)
	}
	b.WriteString("  - name: default\n    instruction: dequeue\n    params: {from: \"+15005550006\", to: \"client:default\"}\n")
	return b.String()
}
