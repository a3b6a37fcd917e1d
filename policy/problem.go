package policy

import (
	"errors"
	"fmt"
	"strings"
)

// Problem is one thing wrong (or, as a warning, suspicious) in a policy
// file, located so that ops can go straight to it.
type Problem struct {
	File string
	Line int
	// Rule and Index (1-based) locate the rule; both are zero outside rules.
	Rule  string
	Index int
	// Field is the key path within the rule or file, e.g. "params.timeout".
	Field string
	Msg   string
	// Detail holds extra lines, such as an expression with a caret under the
	// column of a syntax error.
	Detail string
}

// String renders the problem on one line as
// file:line: rule "name" (#n): field: problem.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	switch {
	case p.Index > 0 && p.Rule == "":
		fmt.Fprintf(&b, "rule #%d: ", p.Index)
	case p.Index > 0:
		fmt.Fprintf(&b, "rule %q (#%d): ", p.Rule, p.Index)
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// MaxProblems is how many problems a LoadError lists at most.
const MaxProblems = 100

// LoadError lists the problems that stopped a policy from loading: all of
// them, or the first MaxProblems followed by one more Problem that says how
// many were left out, so that whoever prints the list shows the count.
type LoadError struct {
	Problems []Problem
	// More is how many problems were left out, or 0.
	More int
}

// Error renders every problem, one a line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Problems turns an error of loading a policy into lines, one problem a
// line as validate prints them: a *LoadError's problems (found through
// wrapping too), or else the error's own text; nil for no error.
func Problems(err error) []string {
	if err == nil {
		return nil
	}
	var le *LoadError
	if !errors.As(err, &le) {
		return []string{err.Error()}
	}
	out := make([]string, len(le.Problems))
	for i, p := range le.Problems {
		out[i] = p.String()
	}
	return out
}
