// Package table holds the data tables a policy reads: CSV files that ops
// keep beside the policy (VIP numbers, blocked callers, account tiers),
// loaded once into a compact read-only form and looked up without
// allocating.
//
// A table has a header row naming its columns, one of which is the key;
// keys are unique. Columns are strings unless declared numbers. A hashed
// table stores in its key column the hex SHA-256 of each key rather than
// the key, so that the file holds no phone numbers; a lookup hashes the
// probe the same way.
//
// Memory: every string cell lives in one arena string, addressed by
// 32-bit end offsets, number cells in one float64 slice per number column,
// and the index maps each key (a substring of the arena, or a 32-byte
// digest) to its row. Three short columns cost well under 100 bytes a row.
package table

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
)

// Type is the type of a column's cells.
type Type uint8

const (
	// String cells are read as written.
	String Type = iota
	// Number cells are decimal numbers; an empty cell is NULL.
	Number
)

// String names the type as a policy's columns mapping spells it.
func (t Type) String() string {
	if t == Number {
		return "number"
	}
	return "string"
}

// ParseType reads a type name of a policy's columns mapping.
func ParseType(s string) (Type, bool) {
	switch s {
	case "string":
		return String, true
	case "number":
		return Number, true
	}
	return String, false
}

// Table is one loaded table. It is immutable and safe for concurrent use.
type Table struct {
	name, file string
	cols       []column
	key        int
	hashed     bool
	rows       int
	// arena holds every string cell, row by row; ends[r*nstr+i] is where
	// the i-th string cell of row r ends, and the cell before it ends
	// where it starts.
	arena string
	ends  []uint32
	nstr  int
	index map[string]uint32
	// hindex replaces index in a hashed table: digest to row.
	hindex map[[sha256.Size]byte]uint32
	sum    [sha256.Size]byte
}

// column is one column: its name, type and slot (the index among string
// cells, or into nums).
type column struct {
	name string
	typ  Type
	slot int
	nums []float64 // a number column's cells; NaN is an empty cell
	// absent marks the key column of a hashed table, whose digests are in
	// hindex only.
	absent bool
}

// Name returns the table's name in the policy.
func (t *Table) Name() string { return t.name }

// File returns the path the table was read from.
func (t *Table) File() string { return t.file }

// Rows returns the number of rows, the header not counted.
func (t *Table) Rows() int { return t.rows }

// Hashed reports whether the keys are stored as SHA-256 digests.
func (t *Table) Hashed() bool { return t.hashed }

// Sum returns the SHA-256 of the file as read.
func (t *Table) Sum() [sha256.Size]byte { return t.sum }

// Hash identifies the file's content: the first 12 hex digits of its SHA-256.
func (t *Table) Hash() string { return hex.EncodeToString(t.sum[:6]) }

// Columns returns the column names in file order.
func (t *Table) Columns() []string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = c.name
	}
	return out
}

// Key returns the name of the key column.
func (t *Table) Key() string { return t.cols[t.key].name }

// Column finds a column by name. ok is false for an unknown column and for
// the key column of a hashed table, which holds digests nobody should read.
func (t *Table) Column(name string) (col int, typ Type, ok bool) {
	for i, c := range t.cols {
		if c.name == name && !c.absent {
			return i, c.typ, true
		}
	}
	return 0, String, false
}

// maxHashOnStack is the longest key hashed without allocating; a longer
// probe is copied to the heap to be hashed.
const maxHashOnStack = 256

// Find returns the row whose key is s: for a hashed table, whose digest is
// the SHA-256 of s. It does not allocate for keys of up to 256 bytes.
func (t *Table) Find(s string) (row int, ok bool) {
	if !t.hashed {
		r, ok := t.index[s]
		return int(r), ok
	}
	var sum [sha256.Size]byte
	if len(s) <= maxHashOnStack {
		var buf [maxHashOnStack]byte
		n := copy(buf[:], s)
		sum = sha256.Sum256(buf[:n])
	} else {
		sum = sha256.Sum256([]byte(s))
	}
	r, ok := t.hindex[sum]
	return int(r), ok
}

// FindNumber returns the row whose key is n written as a policy writes
// numbers: the shortest decimal, no exponent (42, 3.5). It does not
// allocate.
func (t *Table) FindNumber(n float64) (row int, ok bool) {
	if math.IsNaN(n) || math.IsInf(n, 0) || math.Abs(n) >= 1e21 {
		return 0, false
	}
	var buf [64]byte
	b := strconv.AppendFloat(buf[:0], n, 'f', -1, 64)
	if !t.hashed {
		r, ok := t.index[string(b)]
		return int(r), ok
	}
	r, ok := t.hindex[sha256.Sum256(b)]
	return int(r), ok
}

// Text returns a string column's cell.
func (t *Table) Text(row, col int) string {
	i := row*t.nstr + t.cols[col].slot
	start := uint32(0)
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.arena[start:t.ends[i]]
}

// Number returns a number column's cell; ok is false for an empty cell.
func (t *Table) Number(row, col int) (n float64, ok bool) {
	n = t.cols[col].nums[row]
	return n, !math.IsNaN(n)
}

// HashValue returns the hex SHA-256 of s, as a hashed table stores keys.
func HashValue(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
