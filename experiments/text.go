package experiments

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/assignd/assignd/internal/jsonout"
)

// JSON is the report as GET /-/experiments serves it and "assignd
// experiment -format json" prints it: indented, with a final newline.
func (r *Report) JSON() []byte {
	return jsonout.Indented(r)
}

// WriteText prints the report for people: per experiment a table of arms,
// each arm against the baseline, and the planner's advice.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "planner: detect %s in acceptance at 80%% power, two-sided 5%% test\n", points(r.MDE))
	if len(r.Experiments) == 0 {
		_, err := fmt.Fprintln(w, "\nno experiments: the policy defines none, or none has been evaluated yet")
		return err
	}
	for i := range r.Experiments {
		if err := r.Experiments[i].writeText(w); err != nil {
			return err
		}
	}
	return nil
}

func (e *Experiment) writeText(w io.Writer) error {
	fmt.Fprintf(w, "\nexperiment %s\n", e.Name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// Arm names are padded to one width, so that they read left-aligned
	// while the numbers align right.
	width := len("arm")
	for _, a := range e.Arms {
		width = max(width, len(a.Name))
	}
	fmt.Fprintf(tw, "%-*s\tdecisions\toffers\taccepted\tacceptance\t95%% CI\ttimeout\t95%% CI\t\n", width, "arm")
	for _, a := range e.Arms {
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t\n", width, a.Name, a.Decisions, a.Offers, a.Outcomes["accepted"],
			percent(a.Acceptance.Rate), interval(a.Acceptance), percent(a.Timeout.Rate), interval(a.Timeout))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range e.Comparisons {
		fmt.Fprintf(w, "  %s vs %s: acceptance %s, timeout %s\n", c.Arm, c.Baseline, c.Acceptance.text(), c.Timeout.text())
	}
	p := e.Plan
	fmt.Fprintf(w, "  planner: %d offers per arm from a %s baseline acceptance", p.PerArm, percent(p.BaselineRate))
	var err error
	switch {
	case len(e.Arms) < 2:
		_, err = fmt.Fprintln(w, "; one arm, nothing to compare")
	case p.Done:
		_, err = fmt.Fprintln(w, "; every arm has them: stop, and read the comparison now")
	default:
		_, err = fmt.Fprintf(w, "; keep running: %d more for %s\n", p.MoreNeeded, p.Fewest)
	}
	return err
}

// text is a test's line: the difference in points, z and p.
func (t Test) text() string {
	if !t.Tested {
		return "not tested yet"
	}
	if t.P < 0.001 {
		return fmt.Sprintf("%s (z %.2f, p < 0.001)", signedPoints(t.Diff), t.Z)
	}
	return fmt.Sprintf("%s (z %.2f, p %.3f)", signedPoints(t.Diff), t.Z, t.P)
}

func percent(p float64) string { return fmt.Sprintf("%.1f%%", 100*p) }

func interval(r Rate) string { return fmt.Sprintf("[%.1f, %.1f]", 100*r.Lo, 100*r.Hi) }

func points(d float64) string { return fmt.Sprintf("%.1f points", 100*d) }

func signedPoints(d float64) string { return fmt.Sprintf("%+.1f points", 100*d) }
