package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
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
	"github.com/assignd/assignd/policy"
)

// Validate implements "assignd validate FILE...". It loads each file
// with policy.LoadFile, the function serve's Store loads it with, and prints
// a summary and the warnings, or every problem. It returns the exit code.
func Validate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	overrides := fs.String("overrides", "", "also check this calendar overrides file against each policy (default: $ASSIGND_OVERRIDES_FILE)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: assignd validate [-overrides FILE] FILE...")
		fmt.Fprintln(stderr, "Checks policy files with the code serve loads them with; exit 1 on any problem.")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	code := 0
	for _, file := range fs.Args() {
		p, err := policy.LoadFile(file)
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

// Explain implements "assignd explain": one callback through the same
// callback.Parse and Decide as serve, with every rule's part in the outcome.
func Explain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		policyFile = fs.String("policy", "", "policy file (default: $ASSIGND_POLICY_FILE, else the embedded example)")
		captured   = fs.String("callback", "", "a captured, form-encoded callback body; - reads stdin")
		task       = fs.String("task", "", "TaskAttributes as JSON (instead of -callback)")
		worker     = fs.String("worker", "{}", "WorkerAttributes as JSON (with -task)")
		expect     = fs.String("expect", "", "exit 1 unless this rule decides")
		format     = fs.String("format", "text", "text or json")
		at         = fs.String("now", "", "the callback's arrival time, RFC 3339 (default: now)")
		server     = fs.String("server", "", "a running server's admin URL: print each rule's outcome counts from its GET /-/policy (text format)")
		overrides  = fs.String("overrides", "", "calendar overrides file (default: $ASSIGND_OVERRIDES_FILE), loaded as at -now")
		sets       setFlags
	)
	fs.Var(&sets, "set", "Field=Value: set a callback form field (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: assignd explain [-policy FILE] (-callback FILE | -task JSON [-worker JSON]) [-set Field=Value]... [-expect RULE] [-format text|json] [-server ADMIN_URL]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || (*captured == "") == (*task == "") || (*format != "text" && *format != "json") || (*server != "" && *format != "text") {
		fs.Usage()
		return 2
	}

	p, err := explainPolicy(*policyFile)
	if err != nil {
		printLoadError(stderr, err)
		return 1
	}
	form, err := explainForm(*captured, *task, *worker, sets, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "explain: %v\n", err)
		return 2
	}
	cb, err := callback.Parse(form)
	if err != nil {
		fmt.Fprintf(stderr, "explain: malformed callback: %v\n", err)
		return 1
	}
	now, err := explainNow(*at)
	if err != nil {
		fmt.Fprintf(stderr, "explain: -now: %v\n", err)
		return 2
	}
	ov, err := loadOverridesFlag(*overrides, now, p, stderr)
	if err != nil {
		printLoadError(stderr, err)
		return 1
	}
	in := cb.Input(now)
	in.Overrides = ov
	ex := p.Explain(in)
	report, err := explain.New(p, ex)
	if err != nil {
		fmt.Fprintf(stderr, "explain: %v\n", err)
		return 1
	}
	if *format == "json" {
		stdout.Write(report.JSON())
	} else {
		writeExplainText(stdout, p, ex, report.RESTForm)
	}
	if *server != "" {
		if err := writeServerOutcomes(stdout, *server, p.Hash()); err != nil {
			fmt.Fprintf(stderr, "explain: -server: %v\n", err)
			return 1
		}
	}
	if *expect != "" && ex.Decision.Rule != *expect {
		fmt.Fprintf(stderr, "explain: expected rule %q, got %q\n", *expect, ex.Decision.Rule)
		return 1
	}
	return 0
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

func writeExplainText(w io.Writer, p *policy.Policy, ex policy.Explanation, rest url.Values) {
	d := ex.Decision
	fmt.Fprintf(w, "policy %s (%s)\n", p.File(), policy.Summary(p))
	writeSteps(w, "  ", ex.Steps)
	writeCalendars(w, ex.Calendars)
	explain.WriteExperiments(w, ex.Experiments)
	fmt.Fprintf(w, "=> rule %q (#%d): %s, %s mode\n", d.Rule, d.RuleIndex+1, d.Instruction.Name, d.Mode)
	if d.Mode == policy.Respond {
		fmt.Fprintf(w, "callback reply: %s\n", d.JSON)
		return
	}
	fmt.Fprintln(w, "callback reply: empty body (200, application/json)")
	fmt.Fprintln(w, "REST update: POST /v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Reservations/{ReservationSid}")
	keys := make([]string, 0, len(rest))
	for k := range rest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range rest[k] {
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
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	w.Write(buf.Bytes())
}
