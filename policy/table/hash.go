package table

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// HashCSV copies a CSV table from r to w with every value of the named
// column replaced by its hex SHA-256, as a hashed table stores its keys;
// an empty column name means the first column. The header is copied as it
// is. A byte-order mark is dropped and lines end in "\n". Nothing is
// written unless the whole file hashes. Problems name the
// file as name and the line, as Parse's do; no value is ever quoted in
// them, since the column is the one holding what must not be shown.
func HashCSV(w io.Writer, r io.Reader, name, column string) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
	// Nothing is written before the whole file has hashed, so that a
	// failure leaves no partial file behind a redirect.
	var out bytes.Buffer
	cw := csv.NewWriter(&out)
	header, err := cr.Read()
	switch {
	case err == io.EOF:
		return &Error{Problems: []Problem{{File: name, Line: 1, Msg: "empty file: the first line must name the columns"}}}
	case err != nil:
		return &Error{Problems: []Problem{hashProblem(name, err)}}
	}
	col := 0
	if column != "" {
		if col = slices.Index(header, column); col < 0 {
			return &Error{Problems: []Problem{{File: name, Line: 1, Column: column, Msg: "no such column: the header has " + strings.Join(header, ", ")}}}
		}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &Error{Problems: []Problem{hashProblem(name, err)}}
		}
		if rec[col] == "" {
			line, _ := cr.FieldPos(col)
			return &Error{Problems: []Problem{{File: name, Line: line, Column: header[col], Msg: "empty value: there is nothing to hash"}}}
		}
		rec[col] = HashValue(rec[col])
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	_, err = w.Write(out.Bytes())
	return err
}

func hashProblem(name string, err error) Problem {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return Problem{File: name, Msg: err.Error()}
	}
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		return Problem{File: name, Line: pe.StartLine, Msg: "wrong number of fields: every line needs as many as the header"}
	}
	return Problem{File: name, Line: pe.Line, Msg: quoting(pe)}
}
