package decisionlog

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// value appends one input or parameter value: the types JSON decoding and
// parameters produce are written directly, anything else by encoding/json.
func (e *lineEncoder) value(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case float64:
		// encoding/json writes exponent forms outside this range.
		if a := math.Abs(x); a == 0 || (a >= 1e-6 && a < 1e21) {
			return strconv.AppendFloat(b, x, 'f', -1, 64)
		}
	case json.Number:
		if plainInt(string(x)) {
			return append(b, x...)
		}
	case []string:
		return appendStrings(b, x)
	case []any:
		if x == nil {
			return append(b, "null"...)
		}
		b = append(b, '[')
		for i, el := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.value(b, el)
		}
		return append(b, ']')
	case map[string]any:
		return e.object(b, x)
	}
	return e.fallback(b, v)
}

// object appends a map with its keys sorted, as encoding/json does.
func (e *lineEncoder) object(b []byte, m map[string]any) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.value(append(appendString(b, k), ':'), m[k])
	}
	return append(b, '}')
}

// time appends t as time.Time's MarshalJSON does for the years it
// accepts; it refuses the others, and fallback reports that.
func (e *lineEncoder) time(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		return e.fallback(b, t)
	}
	return append(t.AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
}

// fallback appends v as encoding/json writes it, keeping its error.
func (e *lineEncoder) fallback(b []byte, v any) []byte {
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		if e.err == nil {
			e.err = err
		}
		return b
	}
	return append(b, bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'})...)
}

// appendString appends s quoted by encoding/json's rules without HTML
// escaping: \b, \f, \n, \r and \t by name, other control bytes as \u00XX,
// invalid UTF-8 as \ufffd, and U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

func appendOmit(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// plainInt reports whether s is an integer as JSON writes one, which
// encoding/json writes as it is.
func plainInt(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
