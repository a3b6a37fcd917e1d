package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/internal/buildinfo"
)

// ServeOptions are serve's command-line flags; everything else about
// serve comes from the environment.
type ServeOptions struct {
	// CheckPolicy makes a policy file that does not load stop start-up
	// instead of starting not ready.
	CheckPolicy bool
}

// ServeFlags parses serve's command line. On -h it prints the usage, with
// every environment variable, its default and meaning (config.WriteUsage),
// to stdout; when ok is false, code is the exit code.
func ServeFlags(args []string, stdout, stderr io.Writer) (opts ServeOptions, code int, ok bool) {
	fs := newFlags("serve", "[-check-policy]",
		"Runs the service. Its one flag is below; the environment variables after it configure everything else.")
	fs.BoolVar(&opts.CheckPolicy, "check-policy", false, "exit at start if ASSIGND_POLICY_FILE does not load, instead of starting not ready and watching it")
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprintln(fs.Output())
		if err := config.WriteUsage(fs.Output()); err != nil {
			fmt.Fprintln(stderr, err)
		}
	}
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return opts, code, false
	}
	if fs.NArg() > 0 {
		return opts, usageError(stderr, "serve", "unexpected argument %q: serve is configured by environment variables", fs.Arg(0)), false
	}
	return opts, 0, true
}

// Config implements "assignd config": the effective configuration of the
// current environment, one variable a line with its value and where it
// came from, secrets as set or unset only. It exits 1 with the problems
// when config.Check refuses the configuration, as serve would.
func Config(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("config", "[-format text|json]",
		"Prints the effective configuration from the environment; exit 1 with the problems when serve would refuse it.")
	format := fs.String("format", "text", "text or json (GET /-/config's shape)")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return usageError(stderr, "config", "unexpected argument %q", fs.Arg(0))
	case *format != "text" && *format != "json":
		return usageError(stderr, "config", "-format must be text or json, not %q", *format)
	}
	cfg, err := config.Read()
	if cfg != nil {
		entries := cfg.Entries(os.LookupEnv)
		if *format == "json" {
			writeIndentedJSON(stdout, entries)
		} else {
			writeEntries(stdout, entries)
		}
	}
	for _, u := range config.UnknownEnv(os.Environ()) {
		fmt.Fprintf(stderr, "warning: %s\n", u)
	}
	if err != nil {
		fmt.Fprintf(stderr, "assignd config: %v\n", err)
		return 1
	}
	return 0
}

// writeEntries prints the configuration as an aligned table.
func writeEntries(w io.Writer, entries []config.Entry) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t(%s)\n", e.Name, quoteEmpty(e.Value), e.Source)
	}
	tw.Flush()
}

// quoteEmpty shows an empty value as "", so that it cannot be missed.
func quoteEmpty(v string) string {
	if v == "" {
		return `""`
	}
	return v
}

// Version implements "assignd version": the version, commit and Go
// version of the build (buildinfo.Get).
func Version(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("version", "[-format text|json]", "Prints the version, commit and Go version of this build.")
	format := fs.String("format", "text", "text or json")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return usageError(stderr, "version", "unexpected argument %q", fs.Arg(0))
	case *format != "text" && *format != "json":
		return usageError(stderr, "version", "-format must be text or json, not %q", *format)
	}
	bi := buildinfo.Get()
	if *format == "json" {
		b, _ := json.Marshal(map[string]string{"version": bi.Version, "revision": bi.Revision, "date": bi.Date, "goversion": bi.GoVersion})
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	fmt.Fprintf(stdout, "assignd %s\ncommit: %s\n", bi.Version, bi.Revision)
	if bi.Date != "" {
		fmt.Fprintf(stdout, "date: %s\n", bi.Date)
	}
	fmt.Fprintf(stdout, "go: %s\n", bi.GoVersion)
	return 0
}
