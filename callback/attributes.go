package callback

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// This file checks an attributes document without decoding it, and decodes
// only the top-level values a policy reads. Decoding every document into
// map[string]any was most of a callback's allocations, while a policy reads
// a handful of keys. Anything the scanner refuses goes through
// parseAttributes, so that the 400 says what it always said.

// maxProjected is how many wanted keys projectAttributes tracks on the
// stack; a policy reading more top-level keys of one document pays one
// allocation for the spans.
const maxProjected = 16

// valSpan is the raw JSON text of one value, as offsets into the document.
type valSpan struct{ off, end int }

// attrScanner is a validating JSON scanner over one document. It accepts
// exactly what checkJSONObject followed by json.Unmarshal into a
// map[string]any accepts (FuzzAttributeScanner holds it to that): one
// object, valid UTF-8, nested no deeper than maxAttributeDepth, every
// number within float64's range.
type attrScanner struct {
	s string
	i int
}

// projectAttributes checks doc and returns its top-level values for the
// keys in want only. ok is false when the document is not acceptable; the
// caller then asks parseAttributes for the error. An empty document is an
// empty object, as in parseAttributes.
func projectAttributes(doc string, want []string) (m map[string]any, ok bool) {
	if doc == "" {
		return map[string]any{}, true
	}
	if !utf8.ValidString(doc) {
		return nil, false
	}
	var stack [maxProjected]valSpan
	found := stack[:0]
	if len(want) > maxProjected {
		found = make([]valSpan, 0, len(want))
	}
	found = found[:len(want)]
	for i := range found {
		found[i] = valSpan{-1, -1}
	}
	sc := attrScanner{s: doc}
	sc.ws()
	if !sc.object(1, want, found) {
		return nil, false
	}
	if sc.ws(); sc.i != len(doc) {
		return nil, false
	}
	m = make(map[string]any, len(want))
	for k, sp := range found {
		if sp.off >= 0 {
			m[want[k]] = decodeValue(doc[sp.off:sp.end])
		}
	}
	return m, true
}

func (sc *attrScanner) ws() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// value checks one value starting at sc.i, at nesting depth depth for a
// container it opens.
func (sc *attrScanner) value(depth int) bool {
	if sc.i >= len(sc.s) {
		return false
	}
	switch c := sc.s[sc.i]; {
	case c == '{':
		return sc.object(depth, nil, nil)
	case c == '[':
		return sc.array(depth)
	case c == '"':
		return sc.str()
	case c == '-' || '0' <= c && c <= '9':
		return sc.number()
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(sc.s)-sc.i >= len(lit) && sc.s[sc.i:sc.i+len(lit)] == lit {
			sc.i += len(lit)
			return true
		}
	}
	return false
}

// object checks an object at sc.i. At the top level, want and found are
// the keys the caller wants and where their values are, the last one
// given winning as in encoding/json.
func (sc *attrScanner) object(depth int, want []string, found []valSpan) bool {
	if sc.i >= len(sc.s) || sc.s[sc.i] != '{' || depth > maxAttributeDepth {
		return false
	}
	sc.i++
	sc.ws()
	if sc.i < len(sc.s) && sc.s[sc.i] == '}' {
		sc.i++
		return true
	}
	for {
		keyStart := sc.i
		if !sc.str() {
			return false
		}
		keyEnd := sc.i
		sc.ws()
		if sc.i >= len(sc.s) || sc.s[sc.i] != ':' {
			return false
		}
		sc.i++
		sc.ws()
		valStart := sc.i
		if !sc.value(depth + 1) {
			return false
		}
		if len(want) > 0 {
			if k := wantedKey(sc.s[keyStart:keyEnd], want); k >= 0 {
				found[k] = valSpan{valStart, sc.i}
			}
		}
		if done, ok := sc.after('}'); done {
			return ok
		}
	}
}

func (sc *attrScanner) array(depth int) bool {
	if depth > maxAttributeDepth {
		return false
	}
	sc.i++
	sc.ws()
	if sc.i < len(sc.s) && sc.s[sc.i] == ']' {
		sc.i++
		return true
	}
	for {
		if !sc.value(depth + 1) {
			return false
		}
		if done, ok := sc.after(']'); done {
			return ok
		}
	}
}

// after reads what follows a member or element: a comma, after which done
// is false, or end, which closes the container (done and ok).
func (sc *attrScanner) after(end byte) (done, ok bool) {
	sc.ws()
	if sc.i >= len(sc.s) {
		return true, false
	}
	switch sc.s[sc.i] {
	case ',':
		sc.i++
		sc.ws()
		return false, false
	case end:
		sc.i++
		return true, true
	}
	return true, false
}

// str checks a string at sc.i. UTF-8 was checked for the whole document.
func (sc *attrScanner) str() bool {
	if sc.i >= len(sc.s) || sc.s[sc.i] != '"' {
		return false
	}
	for i := sc.i + 1; i < len(sc.s); i++ {
		switch c := sc.s[i]; {
		case c == '"':
			sc.i = i + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			i++
			if i >= len(sc.s) {
				return false
			}
			switch sc.s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(sc.s) || !isHex4(sc.s[i+1:i+5]) {
					return false
				}
				i += 4
			default:
				return false
			}
		}
	}
	return false
}

func isHex4(s string) bool {
	for i := range 4 {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// number checks a number at sc.i against JSON's grammar and float64's
// range, which json.Unmarshal into an interface enforces.
func (sc *attrScanner) number() bool {
	s, i := sc.s, sc.i
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(s, i)
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		if j := digits(s, i+1); j > i+1 {
			i = j
		} else {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return false
		}
		i = j
	}
	if _, err := strconv.ParseFloat(s[sc.i:i], 64); err != nil {
		return false
	}
	sc.i = i
	return true
}

func digits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// wantedKey returns the index in want of the quoted key raw, or -1.
func wantedKey(raw string, want []string) int {
	key := raw[1 : len(raw)-1]
	for i := 0; i < len(key); i++ {
		if key[i] == '\\' {
			key = unquote(raw)
			break
		}
	}
	for k, w := range want {
		if w == key {
			return k
		}
	}
	return -1
}

// unquote returns the string a checked JSON string literal holds. Escapes
// are rare in attributes, so they are left to encoding/json, which also
// settles how a lone surrogate decodes.
func unquote(raw string) string {
	for i := 1; i < len(raw)-1; i++ {
		if raw[i] == '\\' {
			var s string
			json.Unmarshal([]byte(raw), &s) //nolint:errcheck // raw is checked
			return s
		}
	}
	return raw[1 : len(raw)-1]
}

// decodeValue decodes a checked JSON value as json.Unmarshal into an
// interface would: map[string]any, []any, string, float64, bool or nil.
// Strings without escapes share the document's memory.
func decodeValue(raw string) any {
	d := attrDecoder{s: raw}
	return d.value()
}

// attrDecoder builds values from text attrScanner has accepted, so it
// checks nothing.
type attrDecoder struct {
	s string
	i int
}

func (d *attrDecoder) ws() {
	for d.i < len(d.s) && (d.s[d.i] == ' ' || d.s[d.i] == '\t' || d.s[d.i] == '\n' || d.s[d.i] == '\r') {
		d.i++
	}
}

func (d *attrDecoder) value() any {
	d.ws()
	switch c := d.s[d.i]; c {
	case '{':
		m := map[string]any{}
		d.i++
		for d.ws(); d.s[d.i] != '}'; d.ws() {
			if d.s[d.i] == ',' {
				d.i++
				d.ws()
			}
			k := d.str()
			d.ws()
			d.i++ // ':'
			m[k] = d.value()
		}
		d.i++
		return m
	case '[':
		a := []any{}
		d.i++
		for d.ws(); d.s[d.i] != ']'; d.ws() {
			if d.s[d.i] == ',' {
				d.i++
			}
			a = append(a, d.value())
		}
		d.i++
		return a
	case '"':
		return d.str()
	case 't':
		d.i += 4
		return true
	case 'f':
		d.i += 5
		return false
	case 'n':
		d.i += 4
		return nil
	}
	start := d.i
	for d.i < len(d.s) && isNumberByte(d.s[d.i]) {
		d.i++
	}
	return decodeNumber(d.s[start:d.i])
}

// str decodes the string literal at d.i.
func (d *attrDecoder) str() string {
	start := d.i
	for d.i++; d.s[d.i] != '"'; d.i++ {
		if d.s[d.i] == '\\' {
			d.i++
		}
	}
	d.i++
	return unquote(d.s[start:d.i])
}

func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// decodeNumber is the one place attribute numbers get their Go type:
// json.Number, the text as sent, as encoding/json's UseNumber decodes
// them, so that a template renders 12345678901234567890 exactly;
// policy/expr compares them as float64. attrScanner has checked the range.
func decodeNumber(s string) any {
	return json.Number(s)
}
