package app

import (
	"strings"
	"testing"

	"github.com/assignd/assignd/handlers"
)

// TestServeReplaysCountOnce replays one captured assignment callback and
// one captured event callback, each signed as TaskRouter signed it: every
// request is answered, but the decision is counted and listed once and the
// event's outcome once, the rest as duplicates.
func TestServeReplaysCountOnce(t *testing.T) {
	r := startSigned(t, 100)
	const times = 5
	first := ""
	for i := range times {
		code, _, body := postSigned(t, r, handlers.AssignmentPath, assignmentFor(1, "gold"))
		if code != 200 || (i > 0 && body != first) {
			t.Fatalf("replay %d: %d %s, want 200 %s", i, code, body, first)
		}
		first = body
	}
	event := eventFor("reservation.timeout", 1, "gold")
	event.Set("Sid", "EV"+strings.Repeat("9", 32))
	for i := range times {
		if code, _, body := postSigned(t, r, handlers.EventsPath, event); code != 204 {
			t.Fatalf("event replay %d: %d %s", i, code, body)
		}
	}
	// An event without a Sid cannot be told from another: it counts.
	noSid := eventFor("reservation.accepted", 1, "gold")
	for range 2 {
		postSigned(t, r, handlers.EventsPath, noSid)
	}

	_, metrics := get(t, r.admin+"/metrics")
	for _, want := range []string{
		`assignd_decisions_total{instruction="accept",mode="respond",rule="vip"} 1`,
		`assignd_callbacks_total{code="200"} 5`,
		`assignd_reservation_outcomes_total{instruction="accept",outcome="timeout",rule="vip",source="remembered"} 1`,
		`assignd_events_total{result="counted",type="reservation.timeout"} 1`,
		`assignd_events_total{result="duplicate",type="reservation.timeout"} 4`,
		`assignd_events_total{result="counted",type="reservation.accepted"} 2`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(metrics, strings.SplitN(want, "{", 2)[0]))
		}
	}
	if recent := r.app.decisions.Recent(); len(recent) != 1 || r.app.decisions.Counts("vip").Decisions != 1 {
		t.Errorf("the console lists %d decisions and counts %d for vip; want one of each", len(recent), r.app.decisions.Counts("vip").Decisions)
	}
}
