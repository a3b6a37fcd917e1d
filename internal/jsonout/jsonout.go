// Package jsonout writes JSON the way assignd shows it to people and
// scripts alike: indented by two spaces, HTML characters (&, <, >) as they
// are, and a final newline. Every command's -format json, the schema and
// the admin reports share it, so that they cannot drift apart.
package jsonout

import (
	"bytes"
	"encoding/json"
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
