// Package callback is TaskRouter's callbacks as data, without a web
// framework: the form as TaskRouter POSTs it (Form, scanned within its
// limits), its X-Twilio-Signature (Verifier), the typed callback the policy
// decides on (Callback, FieldError, the attribute scanner that decodes only
// what a policy reads), the Decided event observers get, and Spec, the one
// builder of captured and synthetic callbacks for explain, tests and replay.
//
// The callback listener (package handlers) and every tool that reads a
// captured callback go through this package, so that what a tool accepts,
// serve accepts.
package callback

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/assignd/assignd/policy"
)

// Callback is one TaskRouter assignment callback, parsed and checked.
//
// It knows nothing of HTTP: Parse takes the form fields, so that
// "assignd explain -callback FILE" reads a captured callback through the same
// code as the server.
type Callback struct {
	AccountSid     string
	WorkspaceSid   string
	WorkflowSid    string
	TaskQueueSid   string
	TaskSid        string
	WorkerSid      string
	ReservationSid string
	// Timestamp is kept as sent: its format is not documented.
	Timestamp string

	// TaskAge is in seconds; TaskPriority is TaskRouter's 0..2^31-1 priority.
	// Both are 0 when the callback does not carry them.
	TaskAge      int64
	TaskPriority int64

	// TaskAttributes and WorkerAttributes are the decoded attribute JSON
	// objects; numbers are float64, as encoding/json decodes them. An empty
	// attribute string decodes as an empty object. Parse fills them;
	// the callback handler, which decodes only what the policy reads, leaves
	// them nil, and Attributes decodes them when a person wants them.
	TaskAttributes   map[string]any
	WorkerAttributes map[string]any

	// Fields holds every form field as received, the known ones included, so
	// that undocumented fields (WorkerName, TimestampMs, ...) reach the policy
	// as callback.Name.
	Fields map[string]string

	// projected is set when the handler decoded only the keys in reads:
	// task and worker then hold those top-level values, and Input passes
	// only the callback fields in reads.Callback.
	projected    bool
	task, worker map[string]any
	reads        *policy.Reads
}

// FieldError says which callback field is malformed and how. The callback
// handler answers it with a 400 whose JSON body names the field.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// maxAttributeDepth bounds the nesting of TaskAttributes and
// WorkerAttributes. TaskRouter caps each at 4096 characters, so real
// attributes are nowhere near it; deeper nesting is an attack or a bug.
const maxAttributeDepth = 64

// sidField is a SID-valued callback field and the pattern its value must
// match: prefix followed by 32 hexadecimal digits. pattern is that rule as
// a regular expression, for error messages; isSID checks it.
type sidField struct {
	name     string
	prefix   string
	pattern  *regexp.Regexp
	required bool
	dst      func(*Callback) *string
}

func sidPattern(prefix string) *regexp.Regexp {
	return regexp.MustCompile("^" + prefix + "[0-9a-fA-F]{32}$")
}

// isSID reports whether v matches ^prefix[0-9a-fA-F]{32}$, without the
// regular expression engine: seven of these run for every callback.
func isSID(v, prefix string) bool {
	if len(v) != len(prefix)+32 || v[:len(prefix)] != prefix {
		return false
	}
	for i := len(prefix); i < len(v); i++ {
		if !isHex(v[i]) {
			return false
		}
	}
	return true
}

// sidFields lists the SID fields in the order they are checked, so that the
// first problem reported is stable.
var sidFields = []sidField{
	{"AccountSid", "AC", sidPattern("AC"), true, func(c *Callback) *string { return &c.AccountSid }},
	{"WorkspaceSid", "WS", sidPattern("WS"), true, func(c *Callback) *string { return &c.WorkspaceSid }},
	{"WorkflowSid", "WW", sidPattern("WW"), false, func(c *Callback) *string { return &c.WorkflowSid }},
	{"TaskQueueSid", "WQ", sidPattern("WQ"), false, func(c *Callback) *string { return &c.TaskQueueSid }},
	{"TaskSid", "WT", sidPattern("WT"), true, func(c *Callback) *string { return &c.TaskSid }},
	{"WorkerSid", "WK", sidPattern("WK"), true, func(c *Callback) *string { return &c.WorkerSid }},
	{"ReservationSid", "WR", sidPattern("WR"), true, func(c *Callback) *string { return &c.ReservationSid }},
}

// Parse checks the form fields of an assignment callback and returns
// them typed. A problem is returned as a *FieldError naming the first bad
// field. A field given more than once is a problem too: TaskRouter never
// repeats one, and the signature covers one value per name.
//
// Optional fields (WorkflowSid, TaskQueueSid, TaskAge, TaskPriority) that
// are absent or empty are accepted; unknown fields are kept in Fields.
func Parse(form url.Values) (*Callback, error) {
	fields := make(map[string]string, len(form))
	for name, values := range form {
		if len(values) > 1 {
			return nil, &FieldError{Field: name, Problem: "is given more than once"}
		}
		if len(values) == 1 {
			fields[name] = values[0]
		}
	}
	return ParseFields(fields, nil)
}

// ParseFields is Parse for a form already known to give each field
// once, as the callback handler's scan makes sure; c.Fields is fields. With
// reads, it checks the attribute documents whole but decodes only the
// top-level keys reads names (see Callback.projected).
func ParseFields(fields map[string]string, reads *policy.Reads) (*Callback, error) {
	c := &Callback{Fields: fields}
	for _, f := range sidFields {
		v, ok := c.Fields[f.name]
		switch {
		case !ok || v == "":
			if f.required {
				return nil, &FieldError{Field: f.name, Problem: "is required"}
			}
		case !isSID(v, f.prefix):
			return nil, &FieldError{Field: f.name, Problem: fmt.Sprintf("%q does not match %s", Truncate(v, 40), f.pattern)}
		default:
			*f.dst(c) = v
		}
	}
	c.Timestamp = c.Fields["Timestamp"]
	var err error
	if c.TaskAge, err = parseCount(c.Fields, "TaskAge"); err != nil {
		return nil, err
	}
	if c.TaskPriority, err = parseCount(c.Fields, "TaskPriority"); err != nil {
		return nil, err
	}
	if reads != nil {
		c.projected, c.reads = true, reads
		if c.task, err = projectField(c.Fields, "TaskAttributes", reads.Task); err != nil {
			return nil, err
		}
		if c.worker, err = projectField(c.Fields, "WorkerAttributes", reads.Worker); err != nil {
			return nil, err
		}
		return c, nil
	}
	if c.TaskAttributes, err = parseAttributes(c.Fields, "TaskAttributes"); err != nil {
		return nil, err
	}
	if c.WorkerAttributes, err = parseAttributes(c.Fields, "WorkerAttributes"); err != nil {
		return nil, err
	}
	return c, nil
}

// projectField checks a required attributes field whole and decodes the
// top-level keys in want. What the scanner refuses, parseAttributes
// refuses too, and its error is the one reported.
func projectField(fields map[string]string, name string, want []string) (map[string]any, error) {
	v, ok := fields[name]
	if ok {
		if m, ok := projectAttributes(v, want); ok {
			return m, nil
		}
	}
	if _, err := parseAttributes(fields, name); err != nil {
		return nil, err
	}
	// Unreachable while FuzzAttributeScanner holds: the scanner and
	// parseAttributes accept the same documents.
	return nil, &FieldError{Field: name, Problem: "is not valid JSON"}
}

// Attributes returns the task and worker attributes decoded whole, for
// people (explain, the debug log line): the callback handler decodes only
// what its policy reads. The documents were checked when the callback was
// parsed.
func (c *Callback) Attributes() (task, worker map[string]any) {
	if !c.projected {
		return c.TaskAttributes, c.WorkerAttributes
	}
	task, _ = parseAttributes(c.Fields, "TaskAttributes")
	worker, _ = parseAttributes(c.Fields, "WorkerAttributes")
	return task, worker
}

// parseCount reads a non-negative integer field; absent or empty is 0.
func parseCount(fields map[string]string, name string) (int64, error) {
	v := fields[name]
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, &FieldError{Field: name, Problem: fmt.Sprintf("must be a non-negative integer, not %q", Truncate(v, 40))}
	}
	return n, nil
}

// parseAttributes decodes a required attributes field, a JSON object sent as
// a string. An empty string is an empty object: TaskRouter sends one for a
// worker or task without attributes.
func parseAttributes(fields map[string]string, name string) (map[string]any, error) {
	v, ok := fields[name]
	if !ok {
		return nil, &FieldError{Field: name, Problem: "is required"}
	}
	if v == "" {
		return map[string]any{}, nil
	}
	data := []byte(v)
	// The fast path: attributes that start as an object and are shallow
	// enough go straight to json.Unmarshal, which checks the whole input
	// before it builds anything. If they decode, checkJSONObject would have
	// passed them: one object (Unmarshal refuses trailing data), with the
	// depth shallowObject counted.
	if utf8.Valid(data) && shallowObject(data, maxAttributeDepth) {
		if m, err := decodeObject(data); err == nil {
			return m, nil
		}
	}
	// Anything else takes the careful path, for the same errors as ever.
	if err := checkJSONObject(data, maxAttributeDepth); err != nil {
		return nil, &FieldError{Field: name, Problem: err.Error()}
	}
	m, err := decodeObject(data)
	if err != nil {
		return nil, &FieldError{Field: name, Problem: "is not valid JSON: " + err.Error()}
	}
	return m, nil
}

// decodeObject decodes one JSON object with numbers as json.Number (see
// decodeNumber). json.Unmarshal checks it first, so that what is refused,
// and the words of the refusal, stay those of encoding/json: its number
// range among them, which UseNumber alone does not check. It decodes
// twice, which only explain, the debug log and policies that read whole
// documents pay: callbacks decode only the keys their policy reads.
func decodeObject(data []byte) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	m = nil
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// shallowObject reports whether data, read as JSON, starts with an object
// and nests objects and arrays no deeper than maxDepth. It counts brackets
// outside strings in one pass and allocates nothing; it does not check the
// syntax, so a true answer still needs a decoder's check. On valid JSON its
// depth is the one checkJSONObject counts.
func shallowObject(data []byte, maxDepth int) bool {
	i := 0
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	if i == len(data) || data[i] != '{' {
		return false
	}
	depth, inString := 0, false
	for ; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++ // the escaped character cannot end the string
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			if depth++; depth > maxDepth {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}

// checkJSONObject reports whether data is exactly one JSON object, valid
// UTF-8 and nested no deeper than maxDepth. It runs before json.Unmarshal so that a deeply
// nested value is refused before any of it is built.
func checkJSONObject(data []byte, maxDepth int) error {
	// JSON text is UTF-8 (RFC 8259); encoding/json would quietly turn
	// invalid bytes in strings into U+FFFD, and the policy would see
	// attributes other than those sent.
	if !utf8.Valid(data) {
		return errors.New("is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	depth := 0
	for first := true; ; first = false {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("is not valid JSON: %v", err)
		}
		if first && tok != json.Delim('{') {
			return errors.New("must be a JSON object")
		}
		if !first && depth == 0 {
			return errors.New("has data after the JSON object")
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			if depth > maxDepth {
				return fmt.Errorf("is nested deeper than %d levels", maxDepth)
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// Input is the callback as the policy sees it, received at now. Callback
// holds every form field as a string, except TaskAge and TaskPriority, which
// are float64 (0 when absent) so that expressions can compare them as numbers.
//
// For a callback the handler parsed, Task, Worker and Callback hold only the
// top-level keys the policy reads, which is all Decide looks at.
func (c *Callback) Input(now time.Time) *policy.Input {
	if c.projected {
		return &policy.Input{Task: c.task, Worker: c.worker, Callback: c.callbackFields(c.reads.Callback), Now: now}
	}
	fields := make(map[string]any, len(c.Fields)+2)
	for k, v := range c.Fields {
		fields[k] = v
	}
	fields["TaskAge"] = float64(c.TaskAge)
	fields["TaskPriority"] = float64(c.TaskPriority)
	return &policy.Input{
		Task:     c.TaskAttributes,
		Worker:   c.WorkerAttributes,
		Callback: fields,
		Now:      now,
	}
}

// callbackFields is Input's callback document for the keys in want only.
func (c *Callback) callbackFields(want []string) map[string]any {
	if len(want) == 0 {
		return nil
	}
	fields := make(map[string]any, len(want))
	for _, k := range want {
		switch k {
		case "TaskAge":
			fields[k] = float64(c.TaskAge)
		case "TaskPriority":
			fields[k] = float64(c.TaskPriority)
		default:
			if v, ok := c.Fields[k]; ok {
				fields[k] = v
			}
		}
	}
	return fields
}

// Truncate shortens s to n bytes, marked, for an error message or a log
// line: a field's value is the sender's to choose.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
