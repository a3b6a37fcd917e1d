package expr

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/assignd/assignd/policy/calendar"
)

func calendarSet(t testing.TB) *calendar.Set {
	t.Helper()
	var doc yaml.Node
	src := `support: {timezone: America/New_York, hours: {Mon-Fri: "08:00-20:00"}, holidays: [{date: "2026-12-25", name: Christmas Day}]}`
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	set, problems := calendar.CompileYAML(doc.Content[0])
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return set
}

func TestCalendarRefErrors(t *testing.T) {
	for _, tc := range []struct{ src, caret string }{
		{`calendar.support.opn == true`, "calendar.support.opn == true\n                 ^"},
		{`calendar.support == true`, "calendar.support == true\n^"},
		{`calendar.support.open.x == true`, "calendar.support.open.x == true\n^"},
		{`calendar.support[0].open == true`, "calendar.support[0].open == true\n^"},
	} {
		_, err := Compile(tc.src)
		se, ok := err.(*SyntaxError)
		if !ok || se.Caret() != tc.caret {
			t.Errorf("%s: got %v\n%s\nwant\n%s", tc.src, err, caretOf(err), tc.caret)
		}
	}
	e, err := Compile(`task.x == 1 AND calendar.sales.open == true`)
	if err != nil {
		t.Fatal(err)
	}
	err = e.CheckCalendars(calendarSet(t))
	se, ok := err.(*SyntaxError)
	if !ok || se.Col != 26 || !strings.Contains(se.Msg, `unknown calendar "sales"; the policy defines support`) {
		t.Errorf("CheckCalendars: %v", err)
	}
	tmpl, err := CompileTemplate("{{calendar.sales.reason}}", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := tmpl.CheckCalendars(nil); err == nil || !strings.Contains(err.Error(), "no calendars section") {
		t.Errorf("template CheckCalendars: %v", err)
	}
}

func caretOf(err error) string {
	if se, ok := err.(*SyntaxError); ok {
		return se.Caret()
	}
	return ""
}

func TestCalendarEval(t *testing.T) {
	env := &Env{Calendars: calendarSet(t)}
	env.SetClock(time.Date(2026, 12, 25, 15, 0, 0, 0, time.UTC), time.UTC)
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{`calendar.support.state == "holiday"`, true},
		{`calendar.support.open == false`, true},
		{`calendar.support.reason == "Christmas Day"`, true},
		{`calendar.support.minutes_to_open == 4200`, true}, // Monday 08:00 EST, 70 hours on
		{`calendar.support.minutes_to_close >= 0`, false},  // NULL while closed
	} {
		e, err := Compile(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Eval(env); got != tc.want {
			t.Errorf("%s = %v, want %v (%s)", tc.src, got, tc.want, e.Why(env))
		}
	}
	e, _ := Compile(`calendar.support.minutes_to_close < 10`)
	if why := e.Why(env); !strings.Contains(why, "calendar.support.minutes_to_close is NULL (closed") {
		t.Errorf("Why: %s", why)
	}
	tmpl, _ := CompileTemplate("https://x.example/h?name={{calendar.support.reason}}", true)
	if got, err := tmpl.Render(env); err != nil || got != "https://x.example/h?name=Christmas+Day" {
		t.Errorf("Render = %v, %v", got, err)
	}
	if n := testing.AllocsPerRun(100, func() { e.Eval(env) }); n != 0 {
		t.Errorf("Eval allocates %v times", n)
	}
}

// BenchmarkCalendarRead shows the cost of one calendar read in a condition
// beside a read of now.hour.
func BenchmarkCalendarRead(b *testing.B) {
	env := &Env{Calendars: calendarSet(b)}
	env.SetClock(time.Date(2026, 3, 18, 15, 0, 0, 0, time.UTC), time.UTC)
	for _, src := range []string{
		`now.hour >= 8`,
		`calendar.support.open == true`,
		`calendar.support.state == "open"`,
		`calendar.support.minutes_to_close < 10`,
	} {
		e, err := Compile(src)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.Fields(src)[0], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.Eval(env)
			}
		})
	}
}
