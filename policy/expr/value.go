package expr

import (
	"encoding/json"
	"strconv"
	"strings"
)

// jsonKind is the JSON type of a value during evaluation.
type jsonKind uint8

const (
	jNull jsonKind = iota
	jStr
	jNum
	jBool
	jArr
	jObj
)

// value is an evaluated operand. It is a plain struct, passed by value, so
// that evaluation never boxes numbers into interfaces and never allocates.
type value struct {
	k jsonKind
	b bool
	n float64
	s string
	a []any
}

func (v value) scalar() bool { return v.k == jStr || v.k == jNum || v.k == jBool }

// valueOf converts a decoded JSON value. Besides encoding/json's types it
// accepts Go integers and float32, which callers building an Env by hand may
// use; any other type is NULL.
func valueOf(x any) value {
	switch v := x.(type) {
	case string:
		return value{k: jStr, s: v}
	case float64:
		return value{k: jNum, n: v}
	case bool:
		return value{k: jBool, b: v}
	case []any:
		return value{k: jArr, a: v}
	case map[string]any:
		return value{k: jObj}
	case int:
		return value{k: jNum, n: float64(v)}
	case int64:
		return value{k: jNum, n: float64(v)}
	case int32:
		return value{k: jNum, n: float64(v)}
	case float32:
		return value{k: jNum, n: float64(v)}
	case json.Number:
		if n, err := v.Float64(); err == nil {
			return value{k: jNum, n: n}
		}
	}
	return value{}
}

func (k jsonKind) String() string {
	switch k {
	case jStr:
		return "a string"
	case jNum:
		return "a number"
	case jBool:
		return "a boolean"
	case jArr:
		return "an array"
	case jObj:
		return "an object"
	}
	return "NULL"
}

// scalarEq is == on two non-NULL scalars: same type and same value, with no
// coercion.
func scalarEq(a, b value) bool {
	if a.k != b.k {
		return false
	}
	switch a.k {
	case jStr:
		return a.s == b.s
	case jNum:
		return a.n == b.n
	case jBool:
		return a.b == b.b
	}
	return false
}

// elemEq is == between an array element and a scalar. The common JSON types
// are matched directly so that no value struct is built per element.
func elemEq(e any, v value) bool {
	switch x := e.(type) {
	case string:
		return v.k == jStr && x == v.s
	case float64:
		return v.k == jNum && x == v.n
	case bool:
		return v.k == jBool && x == v.b
	case nil, []any, map[string]any:
		return false
	}
	ev := valueOf(e)
	return ev.scalar() && scalarEq(ev, v)
}

func arrayHas(a []any, v value) bool {
	for _, e := range a {
		if elemEq(e, v) {
			return true
		}
	}
	return false
}

// formatJSONNumber prints a number the way canonical text and templates do: the
// shortest decimal that reads back as the same float64, never an exponent.
func formatJSONNumber(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// quote writes s double-quoted, escaping only what the lexer requires.
func quote(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			sb.WriteByte('\\')
		}
		sb.WriteByte(s[i])
	}
	sb.WriteByte('"')
}

// writeConst writes a constant or list literal in canonical form.
func writeConst(sb *strings.Builder, x any) {
	switch v := x.(type) {
	case string:
		quote(sb, v)
	case float64:
		sb.WriteString(formatJSONNumber(v))
	case bool:
		sb.WriteString(strconv.FormatBool(v))
	case []any:
		sb.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeConst(sb, e)
		}
		sb.WriteByte(']')
	}
}

// compare applies a comparison operator. NULL on either side is false for
// every operator, including != and NOT IN.
func compare(op operator, l, r value) bool {
	switch op {
	case opEq:
		return l.scalar() && r.scalar() && scalarEq(l, r)
	case opNe:
		return l.scalar() && r.scalar() && !scalarEq(l, r)
	case opGt, opGe, opLt, opLe:
		var c int
		switch {
		case l.k == jNum && r.k == jNum:
			switch {
			case l.n < r.n:
				c = -1
			case l.n > r.n:
				c = 1
			case l.n == r.n:
				c = 0
			default: // NaN is unordered
				return false
			}
		case l.k == jStr && r.k == jStr:
			c = strings.Compare(l.s, r.s)
		default:
			return false
		}
		switch op {
		case opGt:
			return c > 0
		case opGe:
			return c >= 0
		case opLt:
			return c < 0
		}
		return c <= 0
	case opContains:
		return l.k == jStr && r.k == jStr && strings.Contains(l.s, r.s)
	case opHas:
		return l.k == jArr && r.scalar() && arrayHas(l.a, r)
	case opIn:
		return l.scalar() && r.k == jArr && arrayHas(r.a, l)
	case opNotIn:
		return l.scalar() && r.k == jArr && !arrayHas(r.a, l)
	}
	return false
}
