package table

import (
	"bytes"
	"encoding/csv"
	"errors"
	"testing"
)

// FuzzParse feeds the CSV reader quotes, byte-order marks, CRLF and empty
// lines: it must never panic, fail only with an *Error, and find every row
// it accepted by its key, with the cells the CSV package reads.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"k,v\na,1\nb,2\n",
		"\uFEFFk,v\r\na,1\r\n\r\nb,\"x\"\"y\"\r\n",
		"k,v\n\"a\nb\",1\n",
		"k,v\na,\"1\n",
		"k,v\na,b\"c\n",
		"k,v\n\n\n,1\n",
		"k\na\na\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := Parse(Spec{File: "f.csv", Key: "k"}, data)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) || len(te.Problems) == 0 {
				t.Fatalf("err = %v, want *Error with problems", err)
			}
			return
		}
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("Parse accepted what encoding/csv refuses: %v", err)
		}
		if tb.Rows() != len(recs)-1 {
			t.Fatalf("rows = %d, csv has %d", tb.Rows(), len(recs)-1)
		}
		for _, rec := range recs[1:] {
			row, ok := tb.Find(rec[tb.key])
			if !ok {
				t.Fatalf("key %q missed", rec[tb.key])
			}
			for i, c := range tb.cols {
				if got := tb.Text(row, i); c.typ == String && got != rec[i] {
					t.Fatalf("cell %d = %q, want %q", i, got, rec[i])
				}
			}
		}
	})
}
