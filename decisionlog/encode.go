package decisionlog

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// lineEncoder writes record lines through one reused buffer and encoder:
// the worker keeps one, so that a record costs no buffer of its own. It
// is not safe for concurrent use.
type lineEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// newLineEncoder returns an encoder that writes <, > and & as they are:
// records are read by people and tools, not browsers.
func newLineEncoder() *lineEncoder {
	e := &lineEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// appendLine appends rec's line, ending in a newline, to dst.
func (e *lineEncoder) appendLine(dst []byte, rec *Record) ([]byte, error) {
	e.buf.Reset()
	if err := e.enc.Encode(rec); err != nil {
		return dst, fmt.Errorf("encoding a record: %w", err)
	}
	return append(dst, e.buf.Bytes()...), nil
}

// encode returns one record line, ending in a newline, as the worker
// writes it.
func encode(rec *Record) ([]byte, error) {
	return newLineEncoder().appendLine(nil, rec)
}
