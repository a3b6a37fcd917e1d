package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/policy/calendar"
)

// maxReportDays bounds calendar -days: a year and a day covers every
// yearly holiday and both clock changes.
const maxReportDays = 366

// Calendar implements "assignd calendar": each day's effective windows
// of one of the policy's calendars, in its zone and UTC, with holidays,
// overrides and clock changes, so that ops can check a calendar before
// shipping it.
func Calendar(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("calendar", "-policy FILE [-overrides FILE] [-from DATE] [-days N] [-format text|json] NAME",
		"Prints a calendar's effective open windows day by day.")
	var (
		policyFile = fs.String("policy", "", "policy file (default: $ASSIGND_POLICY_FILE, else the embedded example)")
		overrides  = fs.String("overrides", "", "calendar overrides file (default: $ASSIGND_OVERRIDES_FILE); read as if loaded at the start of -from")
		from       = fs.String("from", "", "the first day, YYYY-MM-DD in the calendar's zone (default: today there)")
		days       = fs.Int("days", 7, fmt.Sprintf("how many days to show, 1 to %d", maxReportDays))
		format     = fs.String("format", "text", "text or json")
	)
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	switch {
	case fs.NArg() != 1:
		return usageError(stderr, "calendar", "give one calendar NAME")
	case *days < 1 || *days > maxReportDays:
		return usageError(stderr, "calendar", "-days must be between 1 and %d, not %d", maxReportDays, *days)
	case *format != "text" && *format != "json":
		return usageError(stderr, "calendar", "-format must be text or json, not %q", *format)
	}
	p, err := explainPolicy(*policyFile)
	if err != nil {
		printLoadError(stderr, err)
		return 1
	}
	name := fs.Arg(0)
	c := p.Calendars().Lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "calendar: unknown calendar %q; %s\n", name, calendarNames(p))
		return 1
	}
	start := time.Now().In(c.Location())
	if *from != "" {
		if start, err = time.ParseInLocation("2006-01-02", *from, c.Location()); err != nil {
			fmt.Fprintf(stderr, "calendar: -from %q: want a date such as 2026-12-24\n", *from)
			return 2
		}
	}
	ov, err := loadOverridesFlag(*overrides, start, p, stderr)
	if err != nil {
		printLoadError(stderr, err)
		return 1
	}
	r := c.NewReport(start, *days, ov.For(name))
	if *format == "json" {
		stdout.Write(r.JSON())
	} else {
		stdout.Write(r.Text())
	}
	return 0
}

func calendarNames(p *policy.Policy) string {
	if names := p.Calendars().Names(); len(names) > 0 {
		return "the policy defines " + strings.Join(names, ", ")
	}
	return "the policy has no calendars section"
}

// loadOverridesFlag loads the -overrides file (default
// $ASSIGND_OVERRIDES_FILE) as if at now, and warns on stderr about
// overrides for calendars p does not define. No file means no overrides.
func loadOverridesFlag(file string, now time.Time, p *policy.Policy, stderr io.Writer) (*calendar.Overrides, error) {
	if file == "" {
		file = os.Getenv("ASSIGND_OVERRIDES_FILE")
	}
	if file == "" {
		return nil, nil
	}
	ov, _, err := policy.LoadOverrides(file, now)
	if err != nil {
		var le *policy.LoadError
		if !errors.As(err, &le) {
			err = fmt.Errorf("%s: %w", file, err)
		}
		return nil, err
	}
	for _, pr := range policy.CheckOverrides(p, ov) {
		fmt.Fprintf(stderr, "warning: %s\n", pr)
	}
	return ov, nil
}

// writeCalendars prints the state of each calendar the deciding rules
// read, for explain's text output.
func writeCalendars(w io.Writer, cals []policy.CalendarStatus) {
	for _, c := range cals {
		line := fmt.Sprintf("calendar %s (%s): %s", c.Name, c.Timezone, c.State)
		if c.Reason != "" {
			line += fmt.Sprintf(" (%s)", c.Reason)
		}
		switch {
		case c.MinutesToClose != nil:
			line += fmt.Sprintf(", closes in %d min", *c.MinutesToClose)
		case c.MinutesToOpen != nil:
			line += fmt.Sprintf(", opens in %d min", *c.MinutesToOpen)
		}
		if c.NextChange != "" {
			line += ", next change " + c.NextChange
		}
		fmt.Fprintln(w, line)
	}
}

// validateOverrides checks the overrides file (default
// $ASSIGND_OVERRIDES_FILE) against p for validate: its own problems and
// overrides naming a calendar p does not define. It prints them and
// reports whether there were none.
func validateOverrides(file string, p *policy.Policy, stderr io.Writer) bool {
	if file == "" {
		file = os.Getenv("ASSIGND_OVERRIDES_FILE")
	}
	if file == "" {
		return true
	}
	ov, _, err := policy.LoadOverrides(file, time.Now())
	if err == nil {
		if problems := policy.CheckOverrides(p, ov); len(problems) > 0 {
			err = &policy.LoadError{Problems: problems}
		}
	}
	if err != nil {
		printLoadError(stderr, err)
		return false
	}
	return true
}

// readOverridesFlag reads test's -overrides file (default
// $ASSIGND_OVERRIDES_FILE); each case parses it at its own instant.
func readOverridesFlag(file string) ([]byte, string, error) {
	if file == "" {
		file = os.Getenv("ASSIGND_OVERRIDES_FILE")
	}
	if file == "" {
		return nil, "", nil
	}
	src, err := os.ReadFile(file)
	return src, file, err
}
