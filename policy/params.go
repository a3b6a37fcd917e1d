package policy

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// kind is how a parameter's value is typed and checked.
type kind int

const (
	kString   kind = iota // free text
	kContact              // what TaskRouter dials: E.164, client:, sip: or an identity
	kURL                  // absolute http(s) URL
	kBool                 // true or false
	kInt                  // integer within [min, max]
	kSID                  // a Twilio SID with a fixed prefix
	kEnum                 // one of enum
	kEnumList             // a list whose items are each one of enum
)

// paramSpec describes one parameter of one instruction, as Twilio's
// Update WorkerReservation documents it.
type paramSpec struct {
	name     string
	kind     kind
	prefix   string   // kSID
	enum     []string // kEnum, kEnumList
	min, max int      // kInt
	// boolString marks string parameters whose Twilio values include "true"
	// and "false" (beep, conference_record), so that an unquoted YAML
	// boolean is taken as that string rather than rejected.
	boolString bool
	// callbackKey is the key in the assignment-callback JSON reply; empty
	// means the parameter exists only in the REST update.
	callbackKey string
	// secret parameters are masked by Instruction.Redacted wherever an
	// instruction is shown. They must be kString, so that the mask, a
	// string, still fits the parameter's REST setter in explain's form.
	secret bool
	// deprecated, when set, is the warning validate gives for the
	// parameter and the schema's note on it.
	deprecated string
}

// instructionSpec is the parameter table of one instruction.
type instructionSpec struct {
	params   []paramSpec
	required []string
}

var (
	recordValues    = []string{"record-from-answer", "do-not-record"}
	callEvents      = []string{"initiated", "ringing", "answered", "completed"}
	conferenceEvent = []string{"start", "end", "join", "leave", "mute", "hold", "speaker"}
	methods         = []string{"GET", "POST"}
)

// conferencePostWork is the warning for conference's
// post_work_activity_sid, in the words of Twilio's Reservation page.
const conferencePostWork = "deprecated by Twilio and \"not valid in multi-tasking workspaces\", which every new workspace is; drop it there and set the worker's activity another way, for example when the task completes"

// instructions is the parameter table for every instruction, in the order
// parameters appear in decisions and callback replies. It is read-only.
var instructions = map[string]*instructionSpec{
	Accept: {},
	Reject: {params: []paramSpec{
		{name: "activity_sid", kind: kSID, prefix: "WA", callbackKey: "activity_sid"},
	}},
	Dequeue: {params: []paramSpec{
		{name: "from", kind: kContact, callbackKey: "from"},
		{name: "to", kind: kContact, callbackKey: "to"},
		{name: "post_work_activity_sid", kind: kSID, prefix: "WA", callbackKey: "post_work_activity_sid"},
		{name: "record", kind: kEnum, enum: recordValues, callbackKey: "record"},
		{name: "timeout", kind: kInt, min: 1, max: 999, callbackKey: "timeout"},
		{name: "status_callback_url", kind: kURL, callbackKey: "status_callback_url"},
		{name: "status_callback_event", kind: kEnumList, enum: callEvents, callbackKey: "status_callback_events"},
	}},
	Call: {required: []string{"from", "url"}, params: []paramSpec{
		{name: "from", kind: kContact, callbackKey: "from"},
		{name: "to", kind: kContact, callbackKey: "to"},
		{name: "url", kind: kURL, callbackKey: "url"},
		{name: "accept", kind: kBool, callbackKey: "accept"},
		{name: "record", kind: kEnum, enum: recordValues, callbackKey: "record"},
		{name: "timeout", kind: kInt, min: 1, max: 999, callbackKey: "timeout"},
		{name: "status_callback_url", kind: kURL, callbackKey: "status_callback_url"},
	}},
	Redirect: {required: []string{"call_sid", "url"}, params: []paramSpec{
		{name: "call_sid", kind: kSID, prefix: "CA", callbackKey: "call_sid"},
		{name: "url", kind: kURL, callbackKey: "url"},
		{name: "accept", kind: kBool, callbackKey: "accept"},
	}},
	Conference: {params: []paramSpec{
		{name: "to", kind: kContact, callbackKey: "to"},
		{name: "from", kind: kContact, callbackKey: "from"},
		{name: "post_work_activity_sid", kind: kSID, prefix: "WA", callbackKey: "post_work_activity_sid", deprecated: conferencePostWork},
		{name: "timeout", kind: kInt, min: 1, max: 999, callbackKey: "timeout"},
		{name: "status_callback", kind: kURL, callbackKey: "status_callback_url"},
		{name: "status_callback_method", kind: kEnum, enum: methods},
		{name: "status_callback_event", kind: kEnumList, enum: callEvents},
		{name: "record", kind: kBool},
		{name: "muted", kind: kBool},
		{name: "beep", kind: kEnum, enum: []string{"true", "false", "onEnter", "onExit"}, boolString: true},
		{name: "start_conference_on_enter", kind: kBool},
		{name: "end_conference_on_exit", kind: kBool},
		{name: "end_conference_on_customer_exit", kind: kBool},
		{name: "beep_on_customer_entrance", kind: kBool},
		{name: "wait_url", kind: kURL},
		{name: "wait_method", kind: kEnum, enum: methods},
		{name: "early_media", kind: kBool},
		{name: "max_participants", kind: kInt, min: 2, max: 250},
		{name: "conference_status_callback", kind: kURL},
		{name: "conference_status_callback_method", kind: kEnum, enum: methods},
		{name: "conference_status_callback_event", kind: kEnumList, enum: conferenceEvent},
		{name: "conference_record", kind: kEnum, enum: []string{"true", "false", "record-from-start", "do-not-record"}, boolString: true},
		{name: "conference_trim", kind: kEnum, enum: []string{"trim-silence", "do-not-trim"}},
		{name: "recording_channels", kind: kEnum, enum: []string{"mono", "dual"}},
		{name: "recording_status_callback", kind: kURL},
		{name: "recording_status_callback_method", kind: kEnum, enum: methods},
		{name: "conference_recording_status_callback", kind: kURL},
		{name: "conference_recording_status_callback_method", kind: kEnum, enum: methods},
		{name: "region", kind: kEnum, enum: []string{"us1", "us2", "ie1", "de1", "sg1", "br1", "au1", "jp1"}},
		{name: "sip_auth_username", kind: kString},
		{name: "sip_auth_password", kind: kString, secret: true},
		{name: "jitter_buffer_size", kind: kEnum, enum: []string{"small", "medium", "large", "off"}},
	}},
}

// InstructionNames lists the instructions a rule may name, in a stable order.
func InstructionNames() []string {
	return []string{Accept, Reject, Dequeue, Call, Redirect, Conference}
}

// IsSecretParam reports whether the named parameter of the instruction must
// never be shown (a SIP password); Instruction.Redacted masks exactly these.
func IsSecretParam(instruction, param string) bool {
	if s := instructions[instruction].lookup(param); s != nil {
		return s.secret
	}
	return false
}

func (is *instructionSpec) lookup(name string) *paramSpec {
	if is == nil {
		return nil
	}
	for i := range is.params {
		if is.params[i].name == name {
			return &is.params[i]
		}
	}
	return nil
}

func (is *instructionSpec) names() []string {
	out := make([]string, len(is.params))
	for i, p := range is.params {
		out[i] = p.name
	}
	return out
}

// ParamNames lists the parameters the policy accepts for an instruction, in
// the order of its table; nil for an unknown instruction. The REST updater's
// tests hold their own table against it.
func ParamNames(instruction string) []string {
	is, ok := instructions[instruction]
	if !ok {
		return nil
	}
	return is.names()
}

var (
	e164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	sidPattern  = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	// identityPattern is a Twilio Client identity, which TaskRouter dials
	// as client:identity when it is given bare.
	identityPattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
)

// check is checkValue with secrets kept out of its errors: every caller,
// at load, while deciding and in policy tests, gets an error that does not
// quote a secret parameter's value.
func (ps *paramSpec) check(v any) (any, error) {
	out, err := ps.checkValue(v)
	if err != nil {
		return nil, secretSafe(ps, err)
	}
	return out, nil
}

// checkValue types and checks a parameter value, whether a literal from the
// policy file or a value rendered from a template, and returns it in its
// canonical Go type: string, bool, int or []string.
func (ps *paramSpec) checkValue(v any) (any, error) {
	switch ps.kind {
	case kBool:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			if b == "true" || b == "false" {
				return b == "true", nil
			}
		}
		return nil, fmt.Errorf("must be true or false, not %s", describe(v))
	case kInt:
		n, ok := asInt(v)
		if !ok {
			if f, isNum := v.(json.Number); isNum && isWhole(f) {
				// Whole, but past what int64 holds.
				return nil, fmt.Errorf("must be between %d and %d, not %s", ps.min, ps.max, describe(v))
			}
			return nil, fmt.Errorf("must be a whole number, not %s", describe(v))
		}
		if n < int64(ps.min) || n > int64(ps.max) {
			return nil, fmt.Errorf("must be between %d and %d, not %s", ps.min, ps.max, describe(v))
		}
		return int(n), nil
	case kEnumList:
		return ps.checkList(v)
	}

	s, ok := v.(string)
	if !ok {
		if b, isBool := v.(bool); isBool && ps.boolString {
			s, ok = strconv.FormatBool(b), true
		}
	}
	if !ok {
		if ps.kind == kContact {
			if _, isNum := asInt(v); isNum {
				return nil, fmt.Errorf("must be a string, not the number %s: quote phone numbers, as in \"+15005550006\"", describe(v))
			}
		}
		return nil, fmt.Errorf("must be a string, not %s", describe(v))
	}
	switch ps.kind {
	case kString:
		if s == "" {
			return nil, fmt.Errorf("must not be empty")
		}
	case kContact:
		if err := checkContact(s); err != nil {
			return nil, err
		}
	case kURL:
		if err := checkURL(s); err != nil {
			return nil, err
		}
	case kSID:
		if len(s) != 34 || s[:2] != ps.prefix || !sidPattern.MatchString(s[2:]) {
			return nil, fmt.Errorf("%q is not a SID matching ^%s[0-9a-fA-F]{32}$", s, ps.prefix)
		}
	case kEnum:
		if !contains(ps.enum, s) {
			return nil, fmt.Errorf("%q is not one of %s", s, strings.Join(ps.enum, ", "))
		}
	}
	return s, nil
}

// checkList accepts a YAML or JSON list of strings, or one comma-separated
// string, as ops write both.
func (ps *paramSpec) checkList(v any) (any, error) {
	var items []string
	switch l := v.(type) {
	case []any:
		for _, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("items must be strings, not %s", describe(e))
			}
			items = append(items, s)
		}
	case []string:
		items = append(items, l...)
	case string:
		for _, s := range strings.Split(l, ",") {
			items = append(items, strings.TrimSpace(s))
		}
	default:
		return nil, fmt.Errorf("must be a list of %s, not %s", strings.Join(ps.enum, ", "), describe(v))
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("must not be an empty list")
	}
	for _, s := range items {
		if !contains(ps.enum, s) {
			return nil, fmt.Errorf("%q is not one of %s", s, strings.Join(ps.enum, ", "))
		}
	}
	return items, nil
}

// checkContact accepts what TaskRouter may dial: any non-empty value
// without whitespace or control characters. Twilio's own examples answer
// "to": "joey" (a client identity) and "from": "18001234567", so the forms
// it documents are only warned about (contactWarning), never refused.
func checkContact(s string) error {
	if s == "" {
		return fmt.Errorf("must not be empty")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return fmt.Errorf("%q holds whitespace or control characters; a contact is E.164 (+15005550006), client:identity, sip:user@host or a client identity", s)
	}
	return nil
}

// contactWarning says why a literal contact that checkContact accepts may
// still not be what was meant, or returns "".
func contactWarning(s string) string {
	switch {
	case e164Pattern.MatchString(s):
	case strings.HasPrefix(s, "client:") && len(s) > len("client:"):
	case strings.HasPrefix(s, "sip:") && strings.Contains(s[len("sip:"):], "@"):
	case identityPattern.MatchString(s) && strings.Trim(s, "0123456789") != "":
	case strings.Trim(s, "0123456789") == "":
		return fmt.Sprintf("%q has no leading +: TaskRouter may not read it as a phone number; write E.164, as in \"+%s\"", s, s)
	default:
		return fmt.Sprintf("%q is none of E.164 (+15005550006), client:identity, sip:user@host or a client identity (letters, digits and _); check that TaskRouter can dial it", s)
	}
	return ""
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		if n <= math.MaxInt64 {
			return int64(n), true
		}
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), true
		}
	case string:
		if i, err := strconv.ParseInt(n, 10, 64); err == nil {
			return i, true
		}
	case json.Number:
		// JSON has one number type: 15, 15.0 and 1.5e1 are the same
		// number, and Python's json.dumps and Java's Jackson write whole
		// doubles as 15.0.
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		if f, err := n.Float64(); err == nil {
			return asInt(f)
		}
	}
	return 0, false
}

// isWhole reports whether a JSON number is whole as a float64 reads it,
// however large: one past float64's range has a large exponent.
func isWhole(n json.Number) bool {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return math.IsInf(f, 0)
	}
	return f == math.Trunc(f)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// describe names a value's JSON type and, for scalars, the value, for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %t", x)
	case int, int64, uint64:
		return fmt.Sprintf("%d", x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case []any, []string:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}
