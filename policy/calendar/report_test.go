package calendar

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/assignd/assignd/internal/testkit"
)

// TestReportGolden prints the report of each testdata/report archive's
// calendar as text and JSON. An archive holds calendars.yaml, an optional
// overrides.yaml, and args: the calendar's name, the first day, the number
// of days and the time the overrides were loaded. Run with -update to
// rewrite the outputs.
func TestReportGolden(t *testing.T) {
	for _, file := range testkit.Archives(t, "testdata/report") {
		t.Run(testkit.Name(file), func(t *testing.T) {
			a := testkit.ReadArchive(t, file)
			set := compileSet(t, testkit.Section(t, a, "calendars.yaml"))
			args := strings.Fields(testkit.Section(t, a, "args"))
			if len(args) != 4 {
				t.Fatalf("args %q: want NAME FROM DAYS LOADED", args)
			}
			from, err := time.ParseInLocation("2006-01-02", args[1], set.Lookup(args[0]).Location())
			if err != nil {
				t.Fatal(err)
			}
			days, _ := strconv.Atoi(args[2])
			var ov *Overrides
			for _, f := range a.Files {
				if f.Name == "overrides.yaml" {
					var problems []Problem
					if ov, problems = ParseOverrides("overrides.yaml", f.Data, mustTime(t, args[3])); len(problems) > 0 {
						t.Fatal(problems)
					}
				}
			}
			r := set.Lookup(args[0]).NewReport(from, days, ov.For(args[0]))
			testkit.Golden(t, file, a, txtar.File{Name: "text", Data: r.Text()}, txtar.File{Name: "json", Data: r.JSON()})
		})
	}
}
