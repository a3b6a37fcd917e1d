package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/assignd/assignd/policy"
)

// newFlags returns the flag set of "assignd NAME", whose usage prints
// synopsis, then about (if any), then the flags, to the set's output:
// stdout for -h, as parseFlags arranges.
func newFlags(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: assignd "+name+" "+synopsis)
		if about != "" {
			fmt.Fprintln(w, about)
		}
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs. On -h, -help or --help it prints the
// usage to stdout and returns 0, false; on a bad flag it prints one line
// saying what was wrong and a hint to stderr and returns 2, false.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return 0, false
	case err != nil:
		return usageError(stderr, fs.Name(), "%v", err), false
	}
	return 0, true
}

// usageError prints one line saying what was wrong with the command line
// of "assignd cmd", then where to read how to use it, and returns 2, the
// exit code of a usage error.
func usageError(stderr io.Writer, cmd, format string, args ...any) int {
	fmt.Fprintf(stderr, "assignd %s: %s\nrun 'assignd %s -h' for usage\n", cmd, fmt.Sprintf(format, args...), cmd)
	return 2
}

// IsHelp reports whether arg asks for help, as -h, -help and --help do.
func IsHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// StdinName is the name a policy or test file read from standard input
// ("-") goes by in messages.
const StdinName = "<stdin>"

// loadPolicy loads the policy file at path with policy.LoadFile, or, for
// "-", parses standard input within the same size limit.
func loadPolicy(path string, stdin io.Reader) (*policy.Policy, error) {
	if path != "-" {
		return policy.LoadFile(path)
	}
	src, err := readStdin(stdin)
	if err != nil {
		return nil, err
	}
	return policy.Parse(StdinName, src)
}

// readStdin reads standard input within policy.MaxFileSize.
func readStdin(stdin io.Reader) ([]byte, error) {
	if stdin == nil {
		stdin = os.Stdin
	}
	src, err := io.ReadAll(io.LimitReader(stdin, policy.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	if len(src) > policy.MaxFileSize {
		return nil, fmt.Errorf("reading standard input: larger than the limit of 1 MiB (%d bytes)", policy.MaxFileSize)
	}
	return src, nil
}
