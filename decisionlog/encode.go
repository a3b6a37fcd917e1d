package decisionlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/assignd/assignd/internal/jsonout"
	"github.com/assignd/assignd/policy"
)

// lineEncoder writes record lines exactly as encoding/json writes a
// Record with SetEscapeHTML(false): records are read by people and tools,
// not browsers. The fields every record carries are written directly,
// which costs a fraction of reflection; a value of any other type, a
// string that needs escaping and a number json writes in exponent form go
// through encoding/json, into one reused buffer. TestEncoderMatchesJSON
// holds the two to the same bytes. It is not safe for concurrent use.
type lineEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
	err error
}

func newLineEncoder() *lineEncoder {
	e := &lineEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// appendLine appends rec's line, ending in a newline, to dst.
func (e *lineEncoder) appendLine(dst []byte, rec *Record) ([]byte, error) {
	e.err = nil
	b := e.record(dst, rec)
	if e.err != nil {
		return dst, fmt.Errorf("encoding a record: %w", e.err)
	}
	return append(b, '\n'), nil
}

// encode returns one record line, ending in a newline, as the worker
// writes it.
func encode(rec *Record) ([]byte, error) {
	return newLineEncoder().appendLine(nil, rec)
}

func (e *lineEncoder) record(b []byte, r *Record) []byte {
	b = strconv.AppendInt(append(b, `{"v":`...), int64(r.V), 10)
	b = jsonout.AppendString(append(b, `,"kind":`...), r.Kind)
	b = e.time(append(b, `,"time":`...), r.Time)
	b = jsonout.AppendString(append(b, `,"reservation_sid":`...), r.ReservationSid)
	b = appendOmit(b, `,"task_sid":`, r.TaskSid)
	b = appendOmit(b, `,"worker_sid":`, r.WorkerSid)
	b = appendOmit(b, `,"workspace_sid":`, r.WorkspaceSid)
	b = appendOmit(b, `,"workflow_sid":`, r.WorkflowSid)
	b = appendOmit(b, `,"policy_hash":`, r.PolicyHash)
	b = jsonout.AppendString(append(b, `,"rule":`...), r.Rule)
	b = jsonout.AppendString(append(b, `,"instruction":`...), r.Instruction)
	b = appendOmit(b, `,"mode":`, r.Mode)
	if len(r.Params) > 0 {
		b = e.object(append(b, `,"params":`...), r.Params)
	}
	if len(r.Trace) > 0 {
		b = append(b, `,"trace":[`...)
		for i := range r.Trace {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.step(b, &r.Trace[i])
		}
		b = append(b, ']')
	}
	if r.Reads != nil {
		b = appendStrings(append(b, `,"reads":{"task":`...), r.Reads.Task)
		b = appendStrings(append(b, `,"worker":`...), r.Reads.Worker)
		b = appendStrings(append(b, `,"callback":`...), r.Reads.Callback)
		if r.Reads.All {
			b = append(b, `,"all":true`...)
		}
		b = append(b, '}')
	}
	if r.Inputs != nil {
		b = e.inputs(append(b, `,"inputs":`...), r.Inputs)
	}
	if len(r.Masked) > 0 {
		b = appendStrings(append(b, `,"masked":`...), r.Masked)
	}
	if len(r.Dropped) > 0 {
		b = appendStrings(append(b, `,"dropped":`...), r.Dropped)
	}
	b = appendOmit(b, `,"event_type":`, r.EventType)
	b = appendOmit(b, `,"source":`, r.Source)
	return append(b, '}')
}

func (e *lineEncoder) step(b []byte, s *policy.Step) []byte {
	b = jsonout.AppendString(append(b, `{"rule":`...), s.Rule)
	b = strconv.AppendInt(append(b, `,"index":`...), int64(s.Index), 10)
	b = jsonout.AppendString(append(b, `,"outcome":`...), s.Result)
	b = appendOmit(b, `,"why":`, s.Why)
	if len(s.Lookups) > 0 {
		b = append(b, `,"lookups":[`...)
		for i, l := range s.Lookups {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonout.AppendString(append(b, `{"table":`...), l.Table)
			b = jsonout.AppendString(append(b, `,"ref":`...), l.Ref)
			b = strconv.AppendBool(append(b, `,"hit":`...), l.Hit)
			if l.Value != nil {
				b = e.value(append(b, `,"value":`...), l.Value)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (e *lineEncoder) inputs(b []byte, in *Inputs) []byte {
	b = e.object(append(b, `{"task":`...), in.Task)
	b = e.object(append(b, `,"worker":`...), in.Worker)
	b = e.object(append(b, `,"callback":`...), in.Callback)
	b = e.time(append(b, `,"now":`...), in.Now)
	if len(in.Calendars) > 0 {
		b = e.fallback(append(b, `,"calendars":`...), in.Calendars)
	}
	if len(in.Tables) > 0 {
		b = append(b, `,"tables":[`...)
		for i, t := range in.Tables {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonout.AppendString(append(b, `{"rule":`...), t.Rule)
			b = jsonout.AppendString(append(b, `,"table":`...), t.Table)
			b = jsonout.AppendString(append(b, `,"ref":`...), t.Ref)
			b = append(strconv.AppendBool(append(b, `,"hit":`...), t.Hit), '}')
		}
		b = append(b, ']')
	}
	if len(in.Experiments) > 0 {
		b = append(b, `,"experiments":[`...)
		for i, x := range in.Experiments {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonout.AppendString(append(b, `{"experiment":`...), x.Experiment)
			b = jsonout.AppendString(append(b, `,"arm":`...), x.Arm)
			b = jsonout.AppendString(append(b, `,"key_from":`...), x.KeyFrom)
			b = append(strconv.AppendInt(append(b, `,"point":`...), int64(x.Point), 10), '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
