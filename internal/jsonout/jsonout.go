// Package jsonout writes JSON the way assignd shows it to people and
// scripts alike: indented by two spaces, HTML characters (&, <, >) as they
// are, and a final newline. Every command's -format json, the schema and
// the admin reports share it, so that they cannot drift apart.
package jsonout

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Indented returns v as indented JSON with a final newline. It panics if
// v cannot be encoded: callers pass plain data (structs, maps, strings,
// numbers), for which encoding cannot fail.
func Indented(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic("jsonout: encoding plain data: " + err.Error())
	}
	return buf.Bytes()
}

// AppendString appends s quoted by encoding/json's rules without HTML
// escaping: \b, \f, \n, \r and \t by name, other control bytes as \u00XX,
// invalid UTF-8 as \ufffd, and U+2028 and U+2029 escaped. It is byte for byte what
// Indented writes for a string (FuzzAppendString holds it to
// encoding/json), without encoding/json's reflection and allocation, for
// the paths that write JSON by hand: the callback reply and the decision
// log's records.
func AppendString(b []byte, s string) []byte {
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
