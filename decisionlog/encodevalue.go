package decisionlog

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/assignd/assignd/internal/jsonout"
)

// value appends one input or parameter value: the types JSON decoding and
// parameters produce are written directly, anything else by encoding/json.
func (e *lineEncoder) value(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return jsonout.AppendString(b, x)
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
		b = e.value(append(jsonout.AppendString(b, k), ':'), m[k])
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

func appendOmit(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return jsonout.AppendString(append(b, key...), s)
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
		b = jsonout.AppendString(b, s)
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
