// Command assignd answers Twilio TaskRouter assignment callbacks with the
// instruction an ops-owned routing policy chooses.
//
// Usage:
//
//	assignd [serve] [-check-policy] run the service (configuration from the environment)
//	assignd validate FILE...        check policy files
//	assignd explain [flags]         show which rule a callback would meet, and why
//	assignd replay [flags] SRC...   what a candidate policy would change on captured callbacks
//	assignd test FILE|DIR...        run policy test files
//	assignd calendar [flags] NAME   print a calendar's effective opening hours
//	assignd experiment [flags]      a running server's experiments
//	assignd schema                  print the JSON Schema of policy files
//	assignd table hash FILE|VALUE.. hash table keys with SHA-256
//	assignd config                  print the effective configuration
//	assignd version                 print the version, commit and Go version
//	assignd help [COMMAND]          print a command's usage
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/assignd/assignd/app"
	"github.com/assignd/assignd/cli"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/experiments"
	"github.com/assignd/assignd/internal/buildinfo"
)

// version is set at build time with -ldflags "-X main.version=..."; it
// stands in for buildinfo.Version when that is not set.
var version string

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// command is one subcommand: its name, its synopsis for the command list,
// and the function that runs it and returns the exit code. Every command
// prints its usage to stdout and exits 0 on -h.
type command struct {
	name, synopsis string
	run            func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// commands is the dispatch list, in the order the usage lists them: adding
// a command is one entry here, and TestEveryCommandHelp covers it.
var commands = []command{
	{"serve", "run the service (the default); configured by environment variables, see assignd serve -h", serveCommand},
	{"validate", "check policy files and report every problem", cli.Validate},
	{"explain", "show which rule a callback would meet, and why", cli.Explain},
	{"replay", "what a candidate policy would change on captured callbacks", noStdin(cli.Replay)},
	{"test", "run policy test files (*_test.yaml below a DIR)", cli.RunTests},
	{"calendar", "print a calendar's effective open windows day by day", noStdin(cli.Calendar)},
	{"experiment", "a running server's experiments: arms, outcome rates and how many more reservations each arm needs", noStdin(experiments.RunExperiment)},
	{"schema", "print the JSON Schema of policy files, for editors", noStdin(cli.Schema)},
	{"table", "hash a CSV table's key column, or values, with SHA-256 (table hash)", noStdin(cli.Table)},
	{"config", "print the effective configuration from the environment", noStdin(cli.Config)},
	{"version", "print the version, commit and Go version", noStdin(cli.Version)},
}

// noStdin adapts a command that reads no standard input.
func noStdin(f func([]string, io.Writer, io.Writer) int) func([]string, io.Reader, io.Writer, io.Writer) int {
	return func(args []string, _ io.Reader, stdout, stderr io.Writer) int { return f(args, stdout, stderr) }
}

// lookup returns the command called name.
func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// writeUsage prints the command list.
func writeUsage(w io.Writer) {
	fmt.Fprint(w, "usage: assignd [command] [flags]\n\ncommands:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.synopsis)
	}
	fmt.Fprintf(tw, "  help [COMMAND]\tprint this list, or a command's usage\n")
	tw.Flush()
	fmt.Fprint(w, "\nassignd COMMAND -h prints a command's flags.\n")
}

// run dispatches to a subcommand and returns the process's exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if version != "" && buildinfo.Version == "" {
		buildinfo.Version = version
	}
	name := "serve"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	switch {
	case name == "help" || cli.IsHelp(name):
		if len(args) == 0 {
			writeUsage(stdout)
			return 0
		}
		if c, ok := lookup(args[0]); ok {
			return c.run([]string{"-h"}, stdin, stdout, stderr)
		}
		return unknownCommand(stderr, args[0])
	case name == "--version" || name == "-version":
		return cli.Version(args, stdout, stderr)
	case strings.HasPrefix(name, "-"):
		// Flags without a command are serve's, the default command.
		return serveCommand(append([]string{name}, args...), stdin, stdout, stderr)
	}
	if c, ok := lookup(name); ok {
		return c.run(args, stdin, stdout, stderr)
	}
	return unknownCommand(stderr, name)
}

// unknownCommand is the usage error of a command that does not exist.
func unknownCommand(stderr io.Writer, name string) int {
	fmt.Fprintf(stderr, "assignd: unknown command %q\nrun 'assignd help' for the list of commands\n", name)
	return 2
}

// serveCommand reads the environment, builds the logger and runs the
// service until SIGINT or SIGTERM.
func serveCommand(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	opts, code, ok := cli.ServeFlags(args, stdout, stderr)
	if !ok {
		return code
	}
	cfg, err := config.Load()
	if err != nil {
		// A misspelt variable is often why the configuration is refused:
		// its suggestion comes first.
		for _, u := range config.UnknownEnv(os.Environ()) {
			fmt.Fprintf(stderr, "assignd: warning: %s\n", u)
		}
		fmt.Fprintf(stderr, "assignd: %v\n", err)
		return 1
	}
	unknown, err := cfg.CheckEnviron(os.Environ())
	if err != nil {
		fmt.Fprintf(stderr, "assignd: %v\n", err)
		return 1
	}
	log := newLogger(cfg, stderr)
	defer log.Sync() //nolint:errcheck // nothing to do about a failed flush at exit
	for _, u := range unknown {
		log.Warn("unknown environment variable", zap.String("variable", u.Name), zap.String("did_you_mean", u.Suggest))
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	a, err := app.New(app.Options{Config: cfg, Logger: log, Version: buildinfo.Get().Version, CheckPolicy: opts.CheckPolicy})
	if err == nil {
		var hup chan os.Signal
		if cfg.PolicyFile != "" {
			// SIGHUP reloads the policy; without a policy file its default
			// action, ending the process, stays.
			hup = make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
		}
		err = a.Run(ctx, hup)
	}
	if err != nil {
		// Plain text rather than a log line: most of these stop start-up, and
		// are read by a person at a terminal, after the log lines before it.
		log.Sync() //nolint:errcheck // nothing to do about a failed flush
		fmt.Fprintf(stderr, "assignd: %v\n", err)
		return 1
	}
	return 0
}

// logBufferSize is how much log output waits for the next flush.
const logBufferSize = 256 << 10

// newLogger builds the process logger from ASSIGND_LOG_LEVEL and
// ASSIGND_LOG_FORMAT, which config.Check has vetted. Sampling is off: every
// callback gets its line, and the handlers rate-limit the warnings that a
// flood could trigger.
func newLogger(cfg *config.Config, stderr io.Writer) *zap.Logger {
	var enc zapcore.Encoder
	if cfg.LogFormat == "console" {
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewConsoleEncoder(ec)
	} else {
		ec := zap.NewProductionEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(ec)
	}
	// Outside development mode log lines are buffered and flushed every
	// second (and at exit): one write(2) per callback line cost a quarter of
	// a callback's CPU under load. A crash loses at most a second of lines.
	var out zapcore.WriteSyncer = zapcore.Lock(zapcore.AddSync(stderr))
	if !cfg.Dev {
		out = &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(stderr), Size: logBufferSize, FlushInterval: time.Second}
	}
	core := zapcore.NewCore(enc, out, cfg.Level())
	return zap.New(core, zap.ErrorOutput(zapcore.Lock(zapcore.AddSync(stderr)))).Named("assignd")
}
