package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/policytest"
)

// RunTests implements "assignd test FILE|DIR...": the cases of policy test
// files, each decided by policy.Explain, reported in the style of go test.
// It returns 0 when every case passes, 1 when any fails and 2 when a test
// file or its policy cannot be read; 2 wins over 1.
func RunTests(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("test", "[-run REGEX] [-v] [-junit FILE] FILE|DIR...",
		"Runs policy test files; a directory stands for every *_test.yaml below it, and - reads one from standard input.")
	var (
		run     = fs.String("run", "", "run only the cases whose name matches this regular expression")
		verbose = fs.Bool("v", false, "print every case, not only the failing ones")
		junit   = fs.String("junit", "", "also write the results as JUnit XML to this file")
		ovFile  = fs.String("overrides", "", "calendar overrides file (default: $ASSIGND_OVERRIDES_FILE), loaded as at each case's now")
	)
	paths, code, ok := parseInterleaved(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(paths) == 0 {
		return usageError(stderr, "test", "no test file or directory given")
	}
	var match func(string) bool
	if *run != "" {
		re, err := regexp.Compile(*run)
		if err != nil {
			return usageError(stderr, "test", "-run: %v", err)
		}
		match = re.MatchString
	}
	files, problems := testFiles(paths)
	for _, err := range problems {
		fmt.Fprintln(stderr, err)
	}
	overrides, ovName, err := readOverridesFlag(*ovFile)
	if err != nil {
		fmt.Fprintf(stderr, "test: -overrides: %v\n", err)
		return 2
	}
	reports, passed, failed := runTestFiles(files, match, *verbose, stdin, stdout, stderr, overrides, ovName)
	if *junit != "" {
		if err := writeJUnitFile(*junit, reports); err != nil {
			fmt.Fprintf(stderr, "test: %v\n", err)
			return 2
		}
	}
	if passed+failed == 0 && len(problems) == 0 && !hasLoadError(reports) {
		fmt.Fprintln(stdout, "warning: no cases to run")
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	switch {
	case len(problems) > 0 || hasLoadError(reports):
		return 2
	case failed > 0:
		return 1
	}
	return 0
}

// parseInterleaved parses flags given before, between or after the paths,
// as go test takes them.
func parseInterleaved(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (paths []string, code int, ok bool) {
	for {
		if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
			return nil, code, false
		}
		if fs.NArg() == 0 {
			return paths, 0, true
		}
		paths = append(paths, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// testFiles expands directories into the *_test.yaml files below them, in
// lexical order; a path that cannot be read, or a directory without test
// files, is a problem.
func testFiles(paths []string) ([]string, []error) {
	var files []string
	var problems []error
	for _, path := range paths {
		if path == "-" {
			files = append(files, path)
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: reading test file: %w", path, errors.Unwrap(err)))
			continue
		}
		if !info.IsDir() {
			files = append(files, path)
			continue
		}
		n := len(files)
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, "_test.yaml") {
				files = append(files, p)
			}
			return err
		})
		switch {
		case err != nil:
			problems = append(problems, fmt.Errorf("%s: %w", path, err))
		case len(files) == n:
			problems = append(problems, fmt.Errorf("%s: no *_test.yaml files below this directory", path))
		}
	}
	return files, problems
}

// runTestFiles loads and runs each file, printing its failing cases (every
// case with verbose) and a line for the file, and counts the cases.
func runTestFiles(files []string, match func(string) bool, verbose bool, stdin io.Reader, stdout, stderr io.Writer,
	overrides []byte, ovName string) (reports []policytest.Report, passed, failed int) {
	now := time.Now()
	for _, file := range files {
		f, err := loadTestFile(file, stdin)
		if file == "-" {
			file = StdinName
		}
		if err != nil {
			var le *policy.LoadError
			if !errors.As(err, &le) {
				err = fmt.Errorf("%s: %w", file, err)
			}
			printLoadError(stderr, err)
			fmt.Fprintf(stdout, "FAIL\t%s\t(did not load)\n", file)
			reports = append(reports, policytest.Report{File: file, Err: err})
			continue
		}
		f.Overrides, f.OverridesFile = overrides, ovName
		results := policytest.Run(f, match, now)
		fileFailed := 0
		for i := range results {
			r := &results[i]
			where := fmt.Sprintf("%s:%d", file, r.Case.Line)
			if r.Passed() {
				passed++
				if verbose {
					d := r.Explanation.Decision
					fmt.Fprintf(stdout, "--- PASS: %s: %s (rule %q: %s, %s mode)\n", where, r.Case.Name, d.Rule, d.Instruction.Name, d.Mode)
				}
				continue
			}
			failed++
			fileFailed++
			fmt.Fprintf(stdout, "--- FAIL: %s: %s\n", where, r.Case.Name)
			for _, line := range strings.Split(strings.TrimSuffix(r.Detail(), "\n"), "\n") {
				fmt.Fprintf(stdout, "    %s\n", line)
			}
		}
		if fileFailed > 0 {
			fmt.Fprintf(stdout, "FAIL\t%s\t%d of %d cases failed\n", file, fileFailed, len(results))
		} else {
			fmt.Fprintf(stdout, "ok  \t%s\t%s\n", file, plural(len(results), "case"))
		}
		reports = append(reports, policytest.Report{File: file, Results: results})
	}
	return reports, passed, failed
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func hasLoadError(reports []policytest.Report) bool {
	for _, r := range reports {
		if r.Err != nil {
			return true
		}
	}
	return false
}

func writeJUnitFile(path string, reports []policytest.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing JUnit report: %w", err)
	}
	if err := policytest.WriteJUnit(f, reports); err != nil {
		f.Close()
		return fmt.Errorf("writing JUnit report: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing JUnit report: %w", err)
	}
	return nil
}

// loadTestFile loads the test file at path with policytest.LoadFile, or,
// for "-", the one on standard input, whose policy path is relative to the
// working directory.
func loadTestFile(path string, stdin io.Reader) (*policytest.File, error) {
	if path != "-" {
		return policytest.LoadFile(path)
	}
	src, err := readStdin(stdin)
	if err != nil {
		return nil, err
	}
	return policytest.Load(StdinName, ".", src)
}

// Schema implements "assignd schema": the JSON Schema of policy files,
// for editors, generated from the parameter table validate checks with.
func Schema(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("schema", "", "Prints the JSON Schema (draft 2020-12) of policy files; it takes no arguments.")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "schema", "unexpected argument %q", fs.Arg(0))
	}
	stdout.Write(policy.Schema())
	return 0
}
