package calendar

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// compileSet compiles a calendars section written as YAML.
func compileSet(t testing.TB, src string) *Set {
	t.Helper()
	set, problems := compileSrc(t, src)
	if len(problems) > 0 {
		t.Fatalf("problems: %+v", problems)
	}
	return set
}

func compileSrc(t testing.TB, src string) (*Set, []Problem) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(strings.ReplaceAll(src, "\t", "  ")), &doc); err != nil {
		t.Fatal(err)
	}
	return CompileYAML(doc.Content[0])
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// newYork is the example calendar.
const newYork = `
support:
  timezone: America/New_York
  hours:
    Mon-Fri: "08:00-20:00"
    Sat: "10:00-12:00,13:00-16:00"
    Sun: "22:00-02:00"
  holidays:
    - {date: "2026-12-25", name: Christmas Day}
    - {date: "12-31", name: New Year's Eve, hours: "08:00-14:00"}
    - {rule: "4th Thu of Nov", name: Thanksgiving}
    - {rule: "last Mon of May", name: Memorial Day}
`
