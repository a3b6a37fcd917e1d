package experiments

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Path is where the admin listener serves the report.
const Path = "/-/experiments"

// Handler serves GET /-/experiments: the report of src as JSON, or as text
// with ?format=text; ?mde=0.05 sizes the planner for 5 points instead of
// DefaultMDE.
func Handler(src func(mde float64) *Report) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		mde, err := parseMDE(req.URL.Query().Get("mde"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r := src(mde)
		switch f := req.URL.Query().Get("format"); f {
		case "", "json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(r.JSON())
		case "text":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_ = r.WriteText(w)
		default:
			http.Error(w, fmt.Sprintf("format %q is not json or text", f), http.StatusBadRequest)
		}
	}
}

// parseMDE reads the mde parameter: empty is DefaultMDE, anything else a
// proportion strictly between 0 and 0.5.
func parseMDE(s string) (float64, error) {
	if s == "" {
		return DefaultMDE, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0 && v < 0.5) {
		return 0, fmt.Errorf("mde %q is not a proportion between 0 and 0.5, such as 0.02 for two points", s)
	}
	return v, nil
}

// fetchTimeout bounds the CLI's request to a running server.
const fetchTimeout = 5 * time.Second

// RunExperiment is "assignd experiment -server ADMIN_URL [-format json]
// [-mde 0.02]": it fetches the report from a running server's admin
// listener and prints it. It returns the exit code: 0, 1 when the server
// cannot be read, 2 for bad usage.
func RunExperiment(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("experiment", flag.ContinueOnError)
	var (
		server = fs.String("server", "", "a running server's admin URL, e.g. http://localhost:9090")
		format = fs.String("format", "text", "text or json")
		mde    = fs.Float64("mde", DefaultMDE, "the difference in acceptance rate to plan for, as a proportion (0.02 is 2 points)")
	)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: assignd experiment -server ADMIN_URL [-format text|json] [-mde 0.02]")
		fs.PrintDefaults()
	}
	// As every command: -h prints the usage to stdout and exits 0; a wrong
	// command line is one line and a hint, exit 2.
	fs.SetOutput(io.Discard)
	usageError := func(msg string) int {
		fmt.Fprintf(stderr, "assignd experiment: %s\nrun 'assignd experiment -h' for usage\n", msg)
		return 2
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	} else if err != nil {
		return usageError(err.Error())
	}
	switch {
	case fs.NArg() > 0:
		return usageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	case *server == "":
		return usageError("-server is required")
	case *format != "text" && *format != "json":
		return usageError(fmt.Sprintf("-format must be text or json, not %q", *format))
	}
	if _, err := parseMDE(strconv.FormatFloat(*mde, 'g', -1, 64)); err != nil {
		fmt.Fprintf(stderr, "experiment: -%v\n", err)
		return 2
	}
	r, err := Fetch(&http.Client{Timeout: fetchTimeout}, *server, *mde)
	if err != nil {
		fmt.Fprintf(stderr, "experiment: %v\n", err)
		return 1
	}
	if *format == "json" {
		_, err = stdout.Write(r.JSON())
	} else {
		err = r.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "experiment: writing the report: %v\n", err)
		return 1
	}
	return 0
}

// Fetch reads the report from the admin listener at base.
func Fetch(client *http.Client, base string, mde float64) (*Report, error) {
	u := strings.TrimRight(base, "/") + Path + "?" + url.Values{"mde": {strconv.FormatFloat(mde, 'g', -1, 64)}}.Encode()
	resp, err := client.Get(u)
	if err != nil {
		return nil, fmt.Errorf("fetching the report: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("fetching the report: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var r Report
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&r); err != nil {
		return nil, fmt.Errorf("reading the report: %w", err)
	}
	if r.Experiments == nil {
		return nil, errors.New("reading the report: no experiments list; is this an assignd admin URL?")
	}
	return &r, nil
}
