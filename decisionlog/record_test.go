package decisionlog

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/policy"
)

// The SIDs of every test record.
const (
	testReservation = "WR0123456789abcdef0123456789abcdef"
	testTask        = "WT0123456789abcdef0123456789abcdef"
	testWorker      = "WK0123456789abcdef0123456789abcdef"
	testWorkspace   = "WS0123456789abcdef0123456789abcdef"
	testWorkflow    = "WW0123456789abcdef0123456789abcdef"
)

// testInput decides docs, a JSON object with task, worker, callback and
// now, with p as the callback path does, and returns what it would hand
// to the log.
func testInput(t testing.TB, p *policy.Policy, docs string, reservation string) Input {
	t.Helper()
	var raw struct {
		Task, Worker, Callback map[string]any
		Now                    time.Time
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(docs)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	for k, v := range raw.Callback {
		if n, ok := v.(json.Number); ok {
			raw.Callback[k], _ = n.Float64()
		}
	}
	in := &policy.Input{Task: raw.Task, Worker: raw.Worker, Callback: raw.Callback, Now: raw.Now}
	d := p.Decide(in)
	return Input{Policy: p, Decision: &d, In: in, ReservationSid: reservation, TaskSid: testTask,
		WorkerSid: testWorker, WorkspaceSid: testWorkspace, WorkflowSid: testWorkflow}
}

// line builds the record line of in as the worker does.
func line(t testing.TB, in Input) []byte {
	t.Helper()
	rec := newMasking(in.Policy).build(&in)
	b, err := encode(&rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRecordGolden pins the record format: each testdata/records archive's
// policy decides its input, and the record line is its record.jsonl.
func TestRecordGolden(t *testing.T) {
	for _, file := range testkit.Archives(t, "testdata/records") {
		t.Run(testkit.Name(file), func(t *testing.T) {
			a := testkit.ReadArchive(t, file)
			p, err := policy.Parse("policy.yaml", []byte(testkit.Section(t, a, "policy.yaml")))
			if err != nil {
				t.Fatal(err)
			}
			in := testInput(t, p, testkit.Section(t, a, "input.json"), testReservation)
			b := line(t, in)
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, bytes.TrimSpace(b), "", "  "); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, file, a, txtar.File{Name: "record.jsonl", Data: b}, txtar.File{Name: "record, indented", Data: pretty.Bytes()})
		})
	}
}

func TestOutcomeRecordGolden(t *testing.T) {
	file := "testdata/outcome.txtar"
	a := testkit.ReadArchive(t, file)
	rec := outcomeRecord(&Outcome{ReservationSid: testReservation, TaskSid: testTask, WorkerSid: testWorker, WorkspaceSid: testWorkspace,
		EventType: "reservation.accepted", Rule: "spanish", Instruction: "dequeue", Source: "remembered",
		Received: time.Date(2026, 3, 2, 14, 5, 9, 0, time.UTC)})
	b, err := encode(&rec)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, file, a, txtar.File{Name: "record.jsonl", Data: b})
}
