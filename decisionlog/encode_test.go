package decisionlog

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/policy/expr"
)

// reflectLine is a record line as encoding/json writes it, the reference
// the worker's encoder must match byte for byte.
func reflectLine(t testing.TB, rec *Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// trickyStrings need every escape encoding/json writes.
var trickyStrings = []string{
	"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "café …", "line\u2028para\u2029", "bad \xff\xfe utf8", "\xe2\x82", "emoji 🙂",
}

// trickyRecord holds every field and every value type a record can.
func trickyRecord() Record {
	two := 2
	doc := map[string]any{
		"s": trickyStrings[2], "n": json.Number("42"), "neg": json.Number("-7"), "f": json.Number("1.5e3"),
		"zero": json.Number("0"), "small": 1e-7, "big": 1e21, "half": 0.5, "negz": math.Copysign(0, -1),
		"int": 3.0, "t": true, "nil": nil, "list": []any{"a", 1.25, nil, []any{}, map[string]any{}},
		"nested": map[string]any{"z": 1.0, "a": []any{"x"}, "<&>": "html"}, "nil list": []any(nil),
		"strs": []string{"a", "b"}, "nil map": map[string]any(nil), "other": struct{ X int }{1},
	}
	for i, s := range trickyStrings {
		doc[s+string(rune('a'+i))] = s
	}
	return Record{
		V: Version, Kind: KindDecision, Time: time.Date(2026, 3, 2, 14, 5, 6, 123456789, time.UTC),
		ReservationSid: "WR1", TaskSid: "WT1", WorkerSid: "WK1", WorkspaceSid: "WS1", WorkflowSid: "WW1",
		PolicyHash: "abc", Rule: "r<1>", Instruction: "dequeue", Mode: "respond",
		Params: map[string]any{"to": "client:x", "list": []string{"a", "\"b\""}, "timeout": 30, "nil": []string(nil)},
		Trace: []policy.Step{
			{Rule: "a", Index: 1, Result: "not matched", Why: "task.x == \"é\" is false (task.x is \"\\u2028\")"},
			{Rule: "b", Index: 2, Result: "matched", Lookups: []expr.Lookup{{Table: "vip", Ref: "tables.vip[task.from]", Hit: true, Value: "desk <1>"}, {Table: "n", Ref: "r", Value: 2.5}, {Table: "m", Ref: "r"}}},
		},
		Reads: &Reads{Task: []string{"x"}, Worker: []string{}, Callback: nil, All: true},
		Inputs: &Inputs{Task: doc, Worker: map[string]any{}, Callback: nil, Now: time.Date(2026, 3, 2, 14, 5, 6, 0, time.UTC),
			Calendars:   []policy.CalendarStatus{{Name: "office", Timezone: "Europe/Paris", Open: true, State: "open", MinutesToClose: &two}},
			Tables:      []TableRead{{Rule: "b", Table: "vip", Ref: "tables.vip[task.from]", Hit: true}, {Rule: "b", Table: "n", Ref: "r"}},
			Experiments: []ExperimentArm{{Experiment: "e", Arm: "b", KeyFrom: "{{task.x}}", Point: 4242}},
		},
		Masked: []string{"task.a"}, Dropped: []string{"task.b"}, EventType: "reservation.accepted", Source: "remembered",
	}
}

// TestEncoderMatchesJSON: the worker's encoder writes every record
// exactly as encoding/json does: the records of the leak and load tests,
// an outcome, and a record holding every field, value type and escape.
func TestEncoderMatchesJSON(t *testing.T) {
	p := testPolicy(t)
	var recs []Record
	for _, src := range leakInputs {
		in := testInput(t, p, src, testReservation)
		recs = append(recs, newMasking(p).build(&in))
	}
	recs = append(recs, outcomeRecord(&Outcome{ReservationSid: "WR1", EventType: "reservation.timeout", Received: time.Unix(1, 5)}), trickyRecord(), Record{})
	enc := newLineEncoder()
	for i := range recs {
		got, err := enc.appendLine(nil, &recs[i])
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if want := reflectLine(t, &recs[i]); !bytes.Equal(got, want) {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestEncoderRefusesWhatJSONRefuses: a value encoding/json cannot encode
// fails the record, as it did, and leaves the line out.
func TestEncoderRefusesWhatJSONRefuses(t *testing.T) {
	for name, rec := range map[string]Record{
		"NaN":        {Params: map[string]any{"x": math.NaN()}},
		"year 10000": {Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := newLineEncoder().appendLine([]byte("kept"), &rec)
		if err == nil || string(got) != "kept" {
			t.Errorf("%s: got %q, %v; want the line left out and an error", name, got, err)
		}
	}
}

// TestWorkerLinesIntact: the worker's lines, encoded into bytes it reuses
// from batch to batch, reach the sink whole and in order, each as encode
// writes it alone.
func TestWorkerLinesIntact(t *testing.T) {
	var out bytes.Buffer
	l, err := New(Options{Sink: "stdout", Stdout: &out, Buffer: 2000})
	if err != nil {
		t.Fatal(err)
	}
	p := testPolicy(t)
	const n = 1000 // several batches
	produce(t, l, p, n)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := bytes.SplitAfter(out.Bytes(), []byte("\n"))
	if len(got) != n+1 || len(got[n]) != 0 {
		t.Fatalf("%d lines, want %d", len(got)-1, n)
	}
	for i := range n {
		in := testInput(t, p, leakInputs[i%len(leakInputs)], sid(i))
		if want := line(t, in); !bytes.Equal(got[i], want) {
			t.Fatalf("line %d:\n got %s\nwant %s", i, got[i], want)
		}
	}
}
