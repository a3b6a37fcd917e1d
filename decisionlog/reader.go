package decisionlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/assignd/assignd/policy"
)

// recordPrefix starts every record line: V and Kind are Record's first
// fields, so that Sniff can tell a decision log by its first bytes.
const recordPrefix = `{"v":1,"kind":"`

// Sniff reports whether r, positioned at the start of a line, holds a
// decision log rather than some other JSON log. It only peeks.
func Sniff(r *bufio.Reader) bool {
	b, err := r.Peek(len(recordPrefix))
	return err == nil && string(b) == recordPrefix
}

// MaxLine bounds one record line when reading.
const MaxLine = 1 << 20

// Reader reads a decision log a record at a time.
type Reader struct {
	sc   *bufio.Scanner
	line int
}

// NewReader reads the records in r, whose first line is line first
// (1 when r starts at the start of the file).
func NewReader(r io.Reader, first int) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, MaxLine)
	return &Reader{sc: sc, line: first - 1}
}

// LineError is a line that is not a record; reading may go on after it.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Entry is one record read back.
type Entry struct {
	// Line is the record's line number.
	Line   int
	Record Record
	// params is the record's params as written, for Compare.
	params json.RawMessage
}

// Next returns the next record, io.EOF after the last, a *LineError for a
// line that is not a record (the next call reads on), or the reading
// error that ends the log.
func (r *Reader) Next() (*Entry, error) {
	for r.sc.Scan() {
		r.line++
		b := bytes.TrimSpace(r.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		e := &Entry{Line: r.line}
		if err := decodeRecord(b, e); err != nil {
			return nil, &LineError{Line: r.line, Err: err}
		}
		return e, nil
	}
	if err := r.sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the decision log: %w", err)
	}
	return nil, io.EOF
}

// decodeRecord decodes one line, numbers as json.Number, as the callback
// path decodes attributes, so that a large integer reads as it was sent.
func decodeRecord(b []byte, e *Entry) error {
	var raw struct {
		Params json.RawMessage `json:"params"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&e.Record); err != nil {
		return fmt.Errorf("not a decision log record: %w", err)
	}
	if e.Record.V != Version {
		return fmt.Errorf("record version %d: this assignd reads version %d", e.Record.V, Version)
	}
	if e.Record.Kind != KindDecision && e.Record.Kind != KindOutcome {
		return fmt.Errorf("kind %q is not %s or %s", e.Record.Kind, KindDecision, KindOutcome)
	}
	if e.Record.Kind == KindDecision && (e.Record.Inputs == nil || e.Record.Reads == nil) {
		return fmt.Errorf("a decision record needs inputs and reads")
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	e.params = raw.Params
	return nil
}

// Input returns the recorded inputs as Decide takes them: callback
// TaskAge and TaskPriority as float64, as the callback path passes them,
// and every other number as a json.Number.
func (e *Entry) Input() *policy.Input {
	in := e.Record.Inputs
	cb := make(map[string]any, len(in.Callback))
	for k, v := range in.Callback {
		if n, ok := v.(json.Number); ok {
			f, _ := n.Float64()
			v = f
		}
		cb[k] = v
	}
	// The SIDs are in every record: an experiment's fallback key reads
	// callback.TaskSid whether or not a condition does.
	rec := &e.Record
	for k, v := range map[string]string{"ReservationSid": rec.ReservationSid, "TaskSid": rec.TaskSid, "WorkerSid": rec.WorkerSid,
		"WorkspaceSid": rec.WorkspaceSid, "WorkflowSid": rec.WorkflowSid} {
		if _, ok := cb[k]; !ok && v != "" {
			cb[k] = v
		}
	}
	return &policy.Input{Task: in.Task, Worker: in.Worker, Callback: cb, Now: in.Now}
}

// NotReplayable says why a record cannot be decided again with a
// candidate: Field names the path the candidate reads.
type NotReplayable struct {
	Field string
	// Why is "masked", "dropped", "not recorded" or "overridden" (a
	// calendar override applied, which the record does not hold).
	Why string
}

func (e *NotReplayable) Error() string { return e.Field + " is " + e.Why }

// Replayable returns nil when cand can decide the record again from what
// it holds, and otherwise a *NotReplayable naming the first path cand
// reads that the record masked, dropped or did not record.
func (e *Entry) Replayable(cand *policy.Policy) error {
	rec := &e.Record
	// The overrides in force are not recorded, only their effect: a
	// candidate with an overridden calendar would decide without it.
	for _, c := range rec.Inputs.Calendars {
		if c.State == "override" && cand.Calendars().Lookup(c.Name) != nil {
			return &NotReplayable{Field: "calendar." + c.Name, Why: "overridden"}
		}
	}
	rd := cand.Reads()
	if rd.All && !rec.Reads.All {
		return &NotReplayable{Field: "the whole documents", Why: "not recorded"}
	}
	for _, doc := range []struct {
		root           string
		wants, records []string
	}{{"task", rd.Task, rec.Reads.Task}, {"worker", rd.Worker, rec.Reads.Worker}, {"callback", rd.Callback, rec.Reads.Callback}} {
		for _, k := range doc.wants {
			path := doc.root + "." + k
			switch {
			case slices.Contains(rec.Masked, path):
				return &NotReplayable{Field: path, Why: "masked"}
			case slices.Contains(rec.Dropped, path):
				return &NotReplayable{Field: path, Why: "dropped"}
			case !rec.Reads.All && !slices.Contains(doc.records, k):
				return &NotReplayable{Field: path, Why: "not recorded"}
			}
		}
	}
	return nil
}

// Recorded returns the recorded decision, for reports: its rule, mode and
// instruction, without parameters, which the record holds redacted.
func (e *Entry) Recorded() policy.Decision {
	rec := &e.Record
	idx := slices.IndexFunc(rec.Trace, func(s policy.Step) bool { return s.Result == "matched" })
	if idx >= 0 {
		idx = rec.Trace[idx].Index - 1
	}
	return policy.Decision{Rule: rec.Rule, RuleIndex: idx, Mode: policy.Mode(rec.Mode), Instruction: policy.Instruction{Name: rec.Instruction}}
}

// Compare says how d, a candidate's decision on Input, differs from the
// recorded one, as policy.Compare does: its parameters are compared as the
// record shows parameters, secrets redacted.
func (e *Entry) Compare(d *policy.Decision) policy.Difference {
	if d.Instruction.Name != e.Record.Instruction || string(d.Mode) != e.Record.Mode {
		return policy.OtherInstruction
	}
	var got []byte
	if len(d.Instruction.Params) > 0 {
		got, _ = json.Marshal(d.Instruction.Redacted().ParamMap())
	}
	if !jsonEqual(got, e.params) {
		return policy.Params
	}
	return policy.Same
}

// jsonEqual compares two encodings of parameters; absent and null are
// the same empty set.
func jsonEqual(a, b []byte) bool {
	norm := func(b []byte) string {
		if s := strings.TrimSpace(string(b)); s != "" && s != "null" {
			return s
		}
		return "{}"
	}
	return norm(a) == norm(b)
}
