package decisionlog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/assignd/assignd/policy"
)

// DroppedValue stands in for a dropped value wherever text quotes it: in a
// rule's trace or a parameter rendered from it.
const DroppedValue = "[dropped]"

// withheldText replaces a trace line that quotes a masked or dropped value
// too short to be replaced safely within the text.
const withheldText = "[withheld: it quotes a masked or dropped value]"

// action is what a record does with one path's value.
type action uint8

const (
	keep action = iota
	mask
	drop
)

// masking is what the records of one policy need, worked out once per
// policy: its reads and what its decision_log section says of each path.
type masking struct {
	pol      *policy.Policy
	declared bool
	how      map[string]action
	reads    policy.Reads
	// recReads is reads as records show them, shared by every record of
	// the policy: the encoder only reads it.
	recReads *Reads
}

func newMasking(p *policy.Policy) *masking {
	lr := p.DecisionLog()
	m := &masking{pol: p, declared: lr.Declared, how: map[string]action{}, reads: p.Reads()}
	m.recReads = &Reads{Task: nonNil(m.reads.Task), Worker: nonNil(m.reads.Worker), Callback: nonNil(m.reads.Callback), All: m.reads.All}
	for _, path := range lr.Mask {
		m.how[path] = mask
	}
	for _, paths := range [][]string{lr.Drop, lr.Secret} {
		for _, path := range paths {
			m.how[path] = drop
		}
	}
	return m
}

// build turns one decided callback into its record. It runs on the
// worker, never on the callback path.
func (m *masking) build(in *Input) Record {
	d := in.Decision
	rec := Record{
		V: Version, Kind: KindDecision, Time: in.In.Now.UTC(),
		ReservationSid: in.ReservationSid, TaskSid: in.TaskSid, WorkerSid: in.WorkerSid,
		WorkspaceSid: in.WorkspaceSid, WorkflowSid: in.WorkflowSid,
		PolicyHash: in.Policy.Hash(), Rule: d.Rule, Instruction: d.Instruction.Name, Mode: string(d.Mode),
		Reads: m.recReads,
	}
	var sc scrubber
	inputs := &Inputs{Now: in.In.Now.UTC()}
	inputs.Task = m.doc(&rec, &sc, "task", in.In.Task, m.reads.Task)
	inputs.Worker = m.doc(&rec, &sc, "worker", in.In.Worker, m.reads.Worker)
	inputs.Callback = m.doc(&rec, &sc, "callback", in.In.Callback, m.reads.Callback)
	rec.Inputs = inputs
	slices.Sort(rec.Masked)
	slices.Sort(rec.Dropped)

	ex := in.Policy.Explain(in.In)
	rec.Trace = ex.Steps
	for i := range rec.Trace {
		rec.Trace[i].Why = sc.text(rec.Trace[i].Why)
		m.lookups(inputs, &sc, &rec.Trace[i])
	}
	inputs.Calendars = ex.Calendars
	for _, a := range ex.Experiments {
		inputs.Experiments = append(inputs.Experiments, ExperimentArm{Experiment: a.Experiment, Arm: a.Arm, KeyFrom: a.KeyFrom, Point: a.Point})
	}
	if len(d.Instruction.Params) > 0 {
		rec.Params = d.Instruction.Redacted().ParamMap()
		for k, v := range rec.Params {
			rec.Params[k] = sc.value(v)
		}
	}
	return rec
}

// doc returns the recorded part of one input document: the keys read (all
// of them when the policy reads whole documents), masked or left out as
// the policy says, and without a decision_log section phone-number-looking
// values masked wherever they are.
func (m *masking) doc(rec *Record, sc *scrubber, root string, src map[string]any, keys []string) map[string]any {
	out := make(map[string]any, len(keys))
	// The path is looked up from a stack buffer and made a string only
	// when a record names it: most keys read are kept as they are.
	var buf [64]byte
	put := func(k string, v any) {
		path := append(append(append(buf[:0], root...), '.'), k...)
		switch m.how[string(path)] {
		case drop:
			rec.Dropped = append(rec.Dropped, string(path))
			sc.add(v, func(string) string { return DroppedValue })
		case mask:
			rec.Masked = append(rec.Masked, string(path))
			t := tokenOf(v)
			if s, ok := v.(string); ok {
				sc.pair(s, t)
			} else {
				sc.add(v, token)
			}
			out[k] = t
		default:
			if !m.declared {
				var masked bool
				if v, masked = maskPhones(v, sc); masked {
					rec.Masked = append(rec.Masked, string(path))
				}
			}
			out[k] = v
		}
	}
	if m.reads.All {
		for k, v := range src {
			put(k, v)
		}
		return out
	}
	for _, k := range keys {
		if v, ok := src[k]; ok {
			put(k, v)
		}
	}
	return out
}

// token masks one string: its SHA-256, so that equal values stay equal
// across records without being readable.
func token(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// tokenOf masks a whole value: a string as token does, anything else by
// its JSON encoding.
func tokenOf(v any) string {
	if s, ok := v.(string); ok {
		return token(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return token("")
	}
	return token(string(b))
}

// e164 is an E.164 number: a plus, a country code and up to 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// PhoneLike reports whether s looks like a phone number or a voice
// address: E.164, or a client: or sip: URI. Without a decision_log
// section, such values are masked by default.
func PhoneLike(s string) bool {
	ls := strings.ToLower(s)
	return e164.MatchString(s) || strings.HasPrefix(ls, "client:") || strings.HasPrefix(ls, "sip:")
}

// maskPhones replaces every phone-looking string in v, at any depth, by
// its token, copying only what changes; it reports whether it replaced any.
func maskPhones(v any, sc *scrubber) (any, bool) {
	switch x := v.(type) {
	case string:
		if PhoneLike(x) {
			t := token(x)
			sc.pair(x, t)
			return t, true
		}
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			if ne, ok := maskPhones(e, sc); ok {
				if out == nil {
					out = make(map[string]any, len(x))
					for k2, e2 := range x {
						out[k2] = e2
					}
				}
				out[k] = ne
			}
		}
		if out != nil {
			return out, true
		}
	case []any:
		var out []any
		for i, e := range x {
			if ne, ok := maskPhones(e, sc); ok {
				if out == nil {
					out = slices.Clone(x)
				}
				out[i] = ne
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

// scrubber replaces masked and dropped values where text quotes them: a
// rule's trace says what a reference held, and a parameter may be
// rendered from one. quoted holds each raw value as a Go-quoted string
// shows it, without the quotes, worked out once per value.
type scrubber struct {
	raws, quoted, repl []string
}

// minReplace is the shortest value replaced within text; a shorter one
// could match by chance, so text quoting it is withheld whole.
const minReplace = 3

// add registers every string and number within v, each to be replaced by
// with(itself).
func (sc *scrubber) add(v any, with func(string) string) {
	switch x := v.(type) {
	case string:
		sc.pair(x, with(x))
	case json.Number:
		sc.pair(string(x), with(string(x)))
	case float64:
		s := strconv.FormatFloat(x, 'f', -1, 64)
		sc.pair(s, with(s))
	case map[string]any:
		for _, e := range x {
			sc.add(e, with)
		}
	case []any:
		for _, e := range x {
			sc.add(e, with)
		}
	}
}

func (sc *scrubber) pair(raw, repl string) {
	if raw != "" {
		q := strconv.Quote(raw)
		sc.raws, sc.quoted, sc.repl = append(sc.raws, raw), append(sc.quoted, q[1:len(q)-1]), append(sc.repl, repl)
	}
}

// text returns s with every registered value replaced, the quoted forms
// a trace writes included.
func (sc *scrubber) text(s string) string {
	for i, raw := range sc.raws {
		for _, r := range [2]string{raw, sc.quoted[i]} {
			if !strings.Contains(s, r) {
				continue
			}
			if len(r) < minReplace {
				return withheldText
			}
			s = strings.ReplaceAll(s, r, sc.repl[i])
		}
	}
	return s
}

// value scrubs a parameter's value: a string or a list of strings.
func (sc *scrubber) value(v any) any {
	switch x := v.(type) {
	case string:
		return sc.text(x)
	case []string:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = sc.text(s)
		}
		return out
	case int:
		if s := strconv.Itoa(x); sc.text(s) != s {
			return sc.text(s)
		}
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
