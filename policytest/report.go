package policytest

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Detail says how a failed case differs from its expectations, one item a
// line, then what decided it and every rule's part, as explain shows them.
func (r *Result) Detail() string {
	var b strings.Builder
	for _, f := range r.Failures {
		fmt.Fprintln(&b, f)
	}
	d := r.Explanation.Decision
	if d.Instruction.Name == "" {
		return b.String()
	}
	fmt.Fprintf(&b, "decided by rule %q (#%d): %s, %s mode\n", d.Rule, d.RuleIndex+1, d.Instruction.Name, d.Mode)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, s := range r.Explanation.Steps {
		fmt.Fprintf(tw, "  #%d\t%s\t%s\t%s\n", s.Index, s.Rule, s.Result, s.Why)
	}
	tw.Flush()
	return b.String()
}

// Report is one test file's outcome: its results, or why it did not load.
type Report struct {
	File    string
	Results []Result
	Err     error
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the reports as JUnit XML, the format CI systems show
// test results from: a test suite per file, a test case per case, and a
// file that did not load as a suite with one error.
func WriteJUnit(w io.Writer, reports []Report) error {
	var out junitSuites
	for _, rep := range reports {
		s := junitSuite{Name: rep.File}
		if rep.Err != nil {
			s.Errors, s.Tests = 1, 1
			s.Cases = append(s.Cases, junitCase{Name: "load", Classname: rep.File, File: rep.File,
				Error: &junitProblem{Message: "the test file or its policy did not load", Text: rep.Err.Error()}})
		}
		for i := range rep.Results {
			r := &rep.Results[i]
			c := junitCase{Name: r.Case.Name, Classname: rep.File, File: rep.File, Line: r.Case.Line}
			if !r.Passed() {
				s.Failures++
				c.Failure = &junitProblem{Message: r.Failures[0], Text: r.Detail()}
			}
			s.Tests++
			s.Cases = append(s.Cases, c)
		}
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
