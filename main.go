// Command assignd answers Twilio TaskRouter assignment callbacks with the
// instruction an ops-owned routing policy chooses.
//
// Usage:
//
//	assignd [serve]               run the service (configuration from the environment)
//	assignd validate FILE...      check policy files
//	assignd explain [flags]       show which rule a callback would meet, and why
//	assignd replay [flags] SRC... what a candidate policy would change on captured callbacks
//	assignd test FILE|DIR...      run policy test files
//	assignd calendar [flags] NAME print a calendar's effective opening hours
//	assignd schema                print the JSON Schema of policy files
//	assignd table hash FILE|VALUE... hash table keys with SHA-256
//	assignd version               print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/assignd/assignd/app"
	"github.com/assignd/assignd/cli"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/experiments"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: assignd [command]

commands:
  serve               run the service (the default); configured by environment
                      variables, see docs/reference/environment.md
  validate FILE...    check policy files and report every problem
  explain [flags]     show which rule a callback would meet, and why
                      (assignd explain -h for its flags)
  replay [flags] SOURCE...
                      what a candidate policy would change on captured
                      callbacks (assignd replay -h for its flags)
  test FILE|DIR...    run policy test files (*_test.yaml below a DIR);
                      assignd test -h for its flags
  calendar [flags] NAME
                      print a calendar's effective open windows day by day
                      (assignd calendar -h for its flags)
  experiment -server ADMIN_URL [-format text|json] [-mde 0.02]
                      a running server's experiments: arms, outcome rates
                      and how many more reservations each arm needs
  schema              print the JSON Schema of policy files, for editors
  table hash [-column NAME] FILE | table hash VALUE...
                      hash a CSV table's key column, or values, with
                      SHA-256 for tables with hash: sha256
  version             print the version
`

// run dispatches to a subcommand and returns the process's exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serveCommand(args, stdout, stderr)
	case "validate":
		return cli.Validate(args, stdout, stderr)
	case "explain":
		return cli.Explain(args, stdin, stdout, stderr)
	case "replay":
		return cli.Replay(args, stdout, stderr)
	case "test":
		return cli.RunTests(args, stdout, stderr)
	case "calendar":
		return cli.Calendar(args, stdout, stderr)
	case "schema":
		return cli.Schema(args, stdout, stderr)
	case "experiment":
		return experiments.RunExperiment(args, stdout, stderr)
	case "table":
		return cli.Table(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "assignd", version)
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "assignd: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// serveCommand reads the environment, builds the logger and runs the
// service until SIGINT or SIGTERM.
func serveCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
			fmt.Fprint(stdout, "usage: assignd serve\n\nserve takes no flags: it is configured by environment variables (see docs/reference/environment.md).\n")
			return 0
		}
		fmt.Fprintf(stderr, "assignd serve: unexpected argument %q: serve is configured by environment variables (see docs/reference/environment.md)\n", args[0])
		return 2
	}
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintf(stderr, "assignd: %v\n", err)
		return 1
	}
	log := newLogger(cfg, stderr)
	defer log.Sync() //nolint:errcheck // nothing to do about a failed flush at exit

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	a, err := app.New(app.Options{Config: cfg, Logger: log, Version: version})
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
