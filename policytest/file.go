// Package policytest runs policy tests kept as files beside the policy: each
// case is a callback, given as attributes or as a captured body, and what
// the policy is expected to decide for it. Cases go through the same
// callback.Parse and Policy.Explain as serve's callbacks.
package policytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/assignd/assignd/policy"
)

// File is a loaded test file: the policy under test and its cases.
type File struct {
	// Name is the file's path as given.
	Name   string
	Policy *policy.Policy
	Cases  []Case
	// Overrides is a calendar overrides file's source, named
	// OverridesFile; Run parses it for each case as if loaded at the
	// case's instant, so that an override can be tested at any time. Nil
	// means no overrides.
	Overrides     []byte
	OverridesFile string
}

// Case is one callback and what the policy is expected to decide for it.
type Case struct {
	Name string
	// Line is the line of the case in its file.
	Line int
	// Form is the callback's form, with the case's callback fields set.
	Form map[string][]string
	// Now is the callback's arrival time; zero means the time of the run.
	Now    time.Time
	Expect Expect
}

// Expect is what a case checks; an empty field is not checked.
type Expect struct {
	Rule        string
	Instruction string
	Mode        policy.Mode
	// Params are compared with the decided instruction's parameters of the
	// same names, after rendering; other parameters are not compared.
	Params []ExpectParam
	// Reply is the respond-mode callback reply, as JSON, compared whole.
	Reply json.RawMessage
	// Skipped, when HasSkipped, lists every rule expected to be skipped.
	Skipped    []ExpectSkip
	HasSkipped bool
}

// ExpectParam is one expected parameter value, as the test file gives it.
type ExpectParam struct {
	Name  string
	Value any
}

// ExpectSkip is a rule expected to match but be passed over, and why: the
// Reason of policy.Skip, "render" or "invalid".
type ExpectSkip struct {
	Rule   string
	Reason string
}

// loader collects every problem of one test file, as policy.Parse does.
type loader struct {
	file     string
	dir      string
	problems []policy.Problem
}

func (l *loader) errorf(line int, field, format string, args ...any) {
	l.problems = append(l.problems, policy.Problem{File: l.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// LoadFile reads a test file and the policy it names, a path relative to
// the test file's directory, with policy.LoadFile. The test file is read
// with the policy loader's rules: a regular file of at most
// policy.MaxFileSize bytes. Every problem of either is
// returned at once as a *policy.LoadError, each with file and line.
func LoadFile(path string) (*File, error) {
	src, err := policy.ReadRegular(path, "test file", policy.MaxFileSize)
	if err != nil {
		return nil, err
	}
	return Load(path, filepath.Dir(path), src)
}

// Load is LoadFile for a test file already read, named name in messages,
// whose policy path is relative to dir: "assignd test -" reads one from
// standard input.
func Load(name, dir string, src []byte) (*File, error) {
	l := &loader{file: name, dir: dir}
	f := l.load(src)
	if len(l.problems) > 0 {
		return nil, &policy.LoadError{Problems: l.problems}
	}
	return f, nil
}

func (l *loader) load(src []byte) *File {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		l.errorf(0, "", "not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil
	}
	if err := policy.CheckExpansion(&doc); err != nil {
		l.errorf(0, "", "%v", err)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || policy.Resolve(doc.Content[0]).Kind != yaml.MappingNode {
		l.errorf(0, "", "a test file must be a mapping with policy and cases")
		return nil
	}
	top := policy.Resolve(doc.Content[0])
	fields := l.mapping(top, "", []string{"policy", "now", "cases"})
	f := &File{Name: l.file}
	if n, ok := fields["policy"]; !ok || n.Kind != yaml.ScalarNode || n.Value == "" {
		l.errorf(top.Line, "policy", "missing: name the policy file, relative to this file")
	} else {
		f.Policy = l.policy(n)
	}
	var now time.Time
	if n, ok := fields["now"]; ok {
		now = l.time(n, "now")
	}
	cases, ok := fields["cases"]
	if !ok || cases.Kind != yaml.SequenceNode || len(cases.Content) == 0 {
		l.errorf(top.Line, "cases", "must be a non-empty list of cases")
		return f
	}
	seen := map[string]int{}
	for i, n := range cases.Content {
		c := l.testCase(n, fmt.Sprintf("cases[%d]", i), f.Policy)
		if c.Now.IsZero() {
			c.Now = now
		}
		if prev, dup := seen[c.Name]; dup && c.Name != "" {
			l.errorf(n.Line, fmt.Sprintf("cases[%d].name", i), "%q is already the name of the case on line %d", c.Name, prev)
		}
		seen[c.Name] = c.Line
		f.Cases = append(f.Cases, c)
	}
	return f
}

// policy loads the policy under test; its problems are the file's problems.
func (l *loader) policy(n *yaml.Node) *policy.Policy {
	path := n.Value
	if !filepath.IsAbs(path) {
		path = filepath.Join(l.dir, path)
	}
	p, err := policy.LoadFile(path)
	var le *policy.LoadError
	switch {
	case errors.As(err, &le):
		l.problems = append(l.problems, le.Problems...)
	case err != nil:
		l.errorf(n.Line, "policy", "%v", err)
	}
	return p
}

// mapping is policy.Mapping, with problems reported in the test file.
func (l *loader) mapping(n *yaml.Node, field string, allowed []string) map[string]*yaml.Node {
	return policy.Mapping(n, field, allowed, func(line int, field, problem string) {
		l.errorf(line, field, "%s", problem)
	})
}

// time reads an RFC 3339 time, as explain -now takes it.
func (l *loader) time(n *yaml.Node, field string) time.Time {
	t, err := time.Parse(time.RFC3339, n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		l.errorf(n.Line, field, "%q is not an RFC 3339 time such as 2026-11-30T15:00:00Z", n.Value)
	}
	return t
}
