package cli

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/explain"
	"github.com/assignd/assignd/internal/jsonout"
	"github.com/assignd/assignd/policy"
)

// Validate implements "assignd validate FILE...". It loads each file
// with policy.LoadFile, the function serve's Store loads it with ("-" reads
// standard input), and prints a summary and the warnings, or every
// problem. It returns the exit code.
func Validate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("validate", "[-overrides FILE] FILE...", "Checks policy files with the code serve loads them with; exit 1 on any problem. - reads standard input.")
	overrides := fs.String("overrides", "", "also check this calendar overrides file against each policy (default: $ASSIGND_OVERRIDES_FILE)")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(stderr, "validate", "no policy file given")
	}
	code := 0
	for _, file := range fs.Args() {
		p, err := loadPolicy(file, stdin)
		if file == "-" {
			file = StdinName
		}
		if err != nil {
			code = 1
			var le *policy.LoadError
			if !errors.As(err, &le) {
				err = fmt.Errorf("%s: %w", file, err)
			}
			printLoadError(stderr, err)
			continue
		}
		if !validateOverrides(*overrides, p, stderr) {
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: ok: %s\n", file, policy.Summary(p))
		for _, w := range p.Warnings() {
			fmt.Fprintf(stdout, "warning: %s\n", w)
		}
	}
	return code
}

func printLoadError(w io.Writer, err error) {
	var le *policy.LoadError
	if !errors.As(err, &le) {
		fmt.Fprintln(w, err)
		return
	}
	for _, p := range le.Problems {
		fmt.Fprintln(w, p.String())
		for _, line := range strings.Split(p.Detail, "\n") {
			if line != "" {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
	if n := len(le.Problems); n == 1 {
		fmt.Fprintln(w, "1 problem")
	} else {
		fmt.Fprintf(w, "%d problems\n", n)
	}
}

// setFlags collects repeated -set Field=Value flags.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, ",") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

// explainFlags are explain's flags.
type explainFlags struct {
	policyFile, captured, task, worker, expect, format, at, server, overrides string
	sets                                                                      setFlags
}

// Explain implements "assignd explain": one callback through the same
// callback.Parse and Decide as serve, with every rule's part in the outcome.
// With -server and no -policy, the running server decides, with its own
// policy, through POST /-/explain.
func Explain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, code, ok := parseExplainFlags(args, stdout, stderr)
	if !ok {
		return code
	}
	var r *explain.Report
	var header string
	if f.server != "" && f.policyFile == "" {
		r, code = explainRemote(f, stdin, stderr)
		if r != nil {
			header = fmt.Sprintf("policy %s running on %s (hash %s)", r.Policy, f.server, r.Hash)
		}
	} else {
		r, header, code = explainLocal(f, stdin, stderr)
	}
	if r == nil {
		return code
	}
	if f.format == "json" {
		stdout.Write(r.JSON())
	} else {
		writeExplainText(stdout, header, r)
	}
	if f.server != "" {
		if err := writeServerOutcomes(stdout, f.server, r.Hash); err != nil {
			fmt.Fprintf(stderr, "explain: -server: %v\n", err)
			return 1
		}
	}
	if f.expect != "" && r.Rule != f.expect {
		fmt.Fprintf(stderr, "explain: expected rule %q, got %q\n", f.expect, r.Rule)
		return 1
	}
	return 0
}

// parseExplainFlags parses explain's command line; when ok is false, code
// is the exit code, the usage or the usage error already printed.
func parseExplainFlags(args []string, stdout, stderr io.Writer) (f explainFlags, code int, ok bool) {
	fs := newFlags("explain", "[-policy FILE] (-callback FILE | -task JSON [-worker JSON]) [-set Field=Value]... [-expect RULE] [-format text|json] [-server ADMIN_URL]",
		"Shows which rule a callback would meet, and why. With -server and no -policy, the running server explains with its own policy.")
	fs.StringVar(&f.policyFile, "policy", "", "policy file (default: with -server the server's running policy, else $ASSIGND_POLICY_FILE, else the embedded example)")
	fs.StringVar(&f.captured, "callback", "", "a captured, form-encoded callback body; - reads stdin")
	fs.StringVar(&f.task, "task", "", "TaskAttributes as JSON (instead of -callback)")
	fs.StringVar(&f.worker, "worker", "{}", "WorkerAttributes as JSON (with -task)")
	fs.StringVar(&f.expect, "expect", "", "exit 1 unless this rule decides")
	fs.StringVar(&f.format, "format", "text", "text or json")
	fs.StringVar(&f.at, "now", "", "the callback's arrival time, RFC 3339 (default: now)")
	fs.StringVar(&f.server, "server", "", "a running server's admin URL: explain with its running policy unless -policy is given, and print each rule's outcome counts there (text format)")
	fs.StringVar(&f.overrides, "overrides", "", "calendar overrides file (default: $ASSIGND_OVERRIDES_FILE), loaded as at -now")
	fs.Var(&f.sets, "set", "Field=Value: set a callback form field (repeatable)")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return f, code, false
	}
	switch {
	case fs.NArg() > 0:
		return f, usageError(stderr, "explain", "unexpected argument %q", fs.Arg(0)), false
	case (f.captured == "") == (f.task == ""):
		return f, usageError(stderr, "explain", "give one of -callback and -task"), false
	case f.format != "text" && f.format != "json":
		return f, usageError(stderr, "explain", "-format must be text or json, not %q", f.format), false
	case f.server != "" && f.format != "text":
		return f, usageError(stderr, "explain", "-server prints text only"), false
	}
	return f, 0, true
}

// explainLocal explains with the policy file (or the example) here; a nil
// report comes with the exit code, its reason already printed.
func explainLocal(f explainFlags, stdin io.Reader, stderr io.Writer) (r *explain.Report, header string, code int) {
	p, err := explainPolicy(f.policyFile)
	if err != nil {
		printLoadError(stderr, err)
		return nil, "", 1
	}
	form, err := explainForm(f.captured, f.task, f.worker, f.sets, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "explain: %v\n", err)
		return nil, "", 2
	}
	cb, err := callback.Parse(form)
	if err != nil {
		fmt.Fprintf(stderr, "explain: malformed callback: %v\n", err)
		return nil, "", 1
	}
	now, err := explainNow(f.at)
	if err != nil {
		return nil, "", usageError(stderr, "explain", "-now: %v", err)
	}
	ov, err := loadOverridesFlag(f.overrides, now, p, stderr)
	if err != nil {
		printLoadError(stderr, err)
		return nil, "", 1
	}
	in := cb.Input(now)
	in.Overrides = ov
	if r, err = explain.New(p, p.Explain(in)); err != nil {
		fmt.Fprintf(stderr, "explain: %v\n", err)
		return nil, "", 1
	}
	return r, fmt.Sprintf("policy %s (%s)", p.File(), policy.Summary(p)), 0
}

// explainNow is the -now flag's time, or now without it.
func explainNow(at string) (time.Time, error) {
	if at == "" {
		return time.Now(), nil
	}
	return time.Parse(time.RFC3339, at)
}

func explainPolicy(file string) (*policy.Policy, error) {
	if file == "" {
		file = os.Getenv("ASSIGND_POLICY_FILE")
	}
	if file == "" {
		return policy.Parse(policy.ExampleName, policy.Example())
	}
	return policy.LoadFile(file)
}

// explainForm builds the callback form from a captured body, or from
// attributes given on the command line with placeholder SIDs.
func explainForm(captured, task, worker string, sets []string, stdin io.Reader) (url.Values, error) {
	var form url.Values
	if captured != "" {
		body, err := readCallback(captured, stdin)
		if err != nil {
			return nil, fmt.Errorf("reading callback: %w", err)
		}
		if form, err = (callback.Spec{Captured: body}).Form(); err != nil {
			return nil, fmt.Errorf("reading callback: %w", err)
		}
	} else {
		form, _ = callback.Spec{Task: task, Worker: worker}.Form() // cannot fail without Set
	}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-set %q: want Field=Value", s)
		}
		form.Set(k, v)
	}
	return form, nil
}

// readCallback reads a captured body from file, or stdin for "-", up to
// one byte beyond callback.MaxBodyBytes: enough for ParseForm to refuse a
// larger one without reading all of it.
func readCallback(file string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if file != "-" {
		f, err := policy.OpenRegular(file, "callback", -1)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	return io.ReadAll(io.LimitReader(r, callback.MaxBodyBytes+1))
}

// writeExplainText prints r for people: header, every rule's part, the
// winner, and the reply or the REST update.
func writeExplainText(w io.Writer, header string, r *explain.Report) {
	fmt.Fprintln(w, header)
	writeSteps(w, "  ", r.Steps)
	writeCalendars(w, r.Calendars)
	explain.WriteExperiments(w, r.Experiments)
	fmt.Fprintf(w, "=> rule %q (#%d): %s, %s mode\n", r.Rule, r.Index, r.Instruction, r.Mode)
	if r.Mode == policy.Respond {
		fmt.Fprintf(w, "callback reply: %s\n", r.Reply)
		return
	}
	fmt.Fprintln(w, "callback reply: empty body (200, application/json)")
	fmt.Fprintln(w, "REST update: POST /v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Reservations/{ReservationSid}")
	keys := make([]string, 0, len(r.RESTForm))
	for k := range r.RESTForm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range r.RESTForm[k] {
			fmt.Fprintf(w, "  %s=%s\n", k, v)
		}
	}
}

// writeSteps prints each rule's part in a decision as an aligned table.
func writeSteps(w io.Writer, indent string, steps []policy.Step) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range steps {
		fmt.Fprintf(tw, "%s#%d\t%s\t%s\t%s\n", indent, s.Index, s.Rule, s.Result, s.Why)
		for _, l := range s.Lookups {
			fmt.Fprintf(tw, "%s\t\t\t%s\n", indent, explain.LookupText(l))
		}
	}
	tw.Flush()
}

// writeIndentedJSON writes v as indented JSON for people to read: HTML
// characters in parameters (&, <) stay as they are.
func writeIndentedJSON(w io.Writer, v any) {
	w.Write(jsonout.Indented(v))
}
