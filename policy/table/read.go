package table

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/assignd/assignd/internal/regfile"
)

// DefaultMaxBytes is the largest table file read unless Spec.MaxBytes
// says otherwise, 64 MiB: about a million rows of a few columns.
const DefaultMaxBytes = 64 << 20

// maxProblems is how many problems one table reports before giving up.
const maxProblems = 20

// Spec says how to read one table.
type Spec struct {
	// Name is the table's name in the policy.
	Name string
	// File is the path to read.
	File string
	// Key names the key column.
	Key string
	// Hashed says the key column holds hex SHA-256 digests of the keys.
	Hashed bool
	// Columns gives the types of the columns that are not strings.
	Columns map[string]Type
	// MaxBytes is the largest file accepted; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// Problem is one thing wrong in a table file.
type Problem struct {
	File string
	// Line is the 1-based line in the file, 0 for the file as a whole.
	Line int
	// Column names the CSV column, when the problem is in one.
	Column string
	Msg    string
}

// String renders the problem as file:line: column: problem.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Column != "" {
		b.WriteString(p.Column + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error lists why a table did not load: every problem, up to a limit.
type Error struct {
	Problems []Problem
}

// Error renders the problems one a line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Load reads spec.File, which must be a regular file of at most
// spec.MaxBytes, and parses it. A file that does not parse returns an
// *Error; one that cannot be read, an error that says so.
func Load(spec Spec) (*Table, error) {
	data, err := regfile.Read(spec.File, spec.maxBytes())
	var tooLarge *regfile.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &Error{Problems: []Problem{spec.tooLarge()}}
	case err != nil:
		return nil, fmt.Errorf("reading table %q: %w", spec.Name, err)
	}
	return Parse(spec, data)
}

func (spec *Spec) maxBytes() int64 {
	if spec.MaxBytes > 0 {
		return spec.MaxBytes
	}
	return DefaultMaxBytes
}

func (spec *Spec) tooLarge() Problem {
	return Problem{File: spec.File, Msg: fmt.Sprintf("larger than the limit of %d bytes (ASSIGND_MAX_TABLE_BYTES); keep large tables on a volume and raise the limit", spec.maxBytes())}
}

var columnName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// loader holds one table while it is read.
type loader struct {
	spec     Spec
	t        *Table
	problems []Problem
	arena    []byte
	digests  [][sha256.Size]byte
	lines    []uint32
}

func (l *loader) bad(line int, col, format string, args ...any) {
	l.problems = append(l.problems, Problem{File: l.spec.File, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)})
}

// Parse builds a table from a CSV file's content: a header row naming the
// columns, then one row per key. A leading byte-order mark, CRLF line ends
// and empty lines are accepted; every problem, up to a limit, is returned
// in an *Error as file:line: column: problem.
func Parse(spec Spec, data []byte) (*Table, error) {
	l := &loader{spec: spec, t: &Table{name: spec.Name, file: spec.File, hashed: spec.Hashed, sum: sha256.Sum256(data)}}
	if int64(len(data)) > spec.maxBytes() {
		return nil, &Error{Problems: []Problem{spec.tooLarge()}}
	}
	body := bytes.TrimPrefix(data, []byte("\uFEFF"))
	r := csv.NewReader(bytes.NewReader(body))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		if err == io.EOF {
			l.bad(1, "", "empty file: the first line must name the columns")
		} else {
			l.csvProblem(err)
		}
		return nil, &Error{Problems: l.problems}
	}
	if !l.header(header) {
		return nil, &Error{Problems: l.problems}
	}
	rowsAtMost := bytes.Count(body, []byte("\n")) + 1
	l.lines = make([]uint32, 0, rowsAtMost)
	l.t.ends = make([]uint32, 0, rowsAtMost*l.t.nstr)
	if spec.Hashed {
		l.digests = make([][sha256.Size]byte, 0, rowsAtMost)
	}
	for i := range l.t.cols {
		if l.t.cols[i].typ == Number {
			l.t.cols[i].nums = make([]float64, 0, rowsAtMost)
		}
	}
	l.arena = make([]byte, 0, len(body)/2)
	l.rows(r)
	if len(l.problems) == 0 {
		l.index()
	}
	if len(l.problems) > 0 {
		return nil, &Error{Problems: l.problems}
	}
	return l.t, nil
}

// header reads the column names and places each column.
func (l *loader) header(names []string) bool {
	t, spec := l.t, &l.spec
	seen := map[string]bool{}
	t.key = -1
	for _, n := range names {
		c := column{name: n}
		switch {
		case !columnName.MatchString(n):
			l.bad(1, n, "not a usable column name: letters, digits and _, not starting with a digit")
		case seen[n]:
			l.bad(1, n, "column named twice")
		}
		seen[n] = true
		if typ, ok := spec.Columns[n]; ok {
			c.typ = typ
		}
		if n == spec.Key {
			t.key = len(t.cols)
			switch {
			case c.typ != String:
				l.bad(1, n, "the key column is always a string; leave it out of columns")
			case spec.Hashed:
				c.absent = true
			}
		}
		switch {
		case c.absent:
		case c.typ == Number:
			c.slot = -1
		default:
			c.slot = t.nstr
			t.nstr++
		}
		t.cols = append(t.cols, c)
	}
	if t.key < 0 {
		l.bad(1, spec.Key, "missing key column: the header has %s", strings.Join(names, ", "))
	}
	for name := range spec.Columns {
		if !seen[name] {
			l.bad(1, name, "declared in columns but not in the header, which has %s", strings.Join(names, ", "))
		}
	}
	return len(l.problems) == 0
}

// rows reads every row after the header.
func (l *loader) rows(r *csv.Reader) {
	t := l.t
	for len(l.problems) < maxProblems {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			l.csvProblem(err)
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				continue
			}
			break
		}
		line, _ := r.FieldPos(0)
		if !l.row(rec, line) {
			continue
		}
		if len(l.arena) > math.MaxUint32 {
			l.bad(line, "", "more than 4 GiB of text: split the table")
			break
		}
		l.lines = append(l.lines, uint32(line))
		t.rows++
	}
	if len(l.problems) >= maxProblems {
		l.bad(0, "", "stopped after %d problems", maxProblems)
	}
}

// row stores one record; it returns false, having reported why, for a
// record it cannot store.
func (l *loader) row(rec []string, line int) bool {
	t := l.t
	key := rec[t.key]
	if key == "" {
		l.bad(line, t.cols[t.key].name, "empty key")
		return false
	}
	var digest [sha256.Size]byte
	if l.spec.Hashed {
		if n, err := hex.Decode(digest[:], []byte(key)); err != nil || n != sha256.Size || len(key) != 2*sha256.Size {
			l.bad(line, t.cols[t.key].name, "not a hex SHA-256 (64 hex digits); write hashed keys with assignd table hash")
			return false
		}
	}
	ok := true
	for i := range t.cols {
		c := &t.cols[i]
		if c.typ != Number {
			continue
		}
		n, good := parseNumber(rec[i])
		if !good {
			l.bad(line, c.name, "%q is not a number", rec[i])
			ok = false
		}
		c.nums = append(c.nums, n)
	}
	if !ok {
		for i := range t.cols {
			if c := &t.cols[i]; c.typ == Number {
				c.nums = c.nums[:t.rows]
			}
		}
		return false
	}
	for i := range t.cols {
		if c := &t.cols[i]; c.typ == String && !c.absent {
			l.arena = append(l.arena, rec[i]...)
			t.ends = append(t.ends, uint32(len(l.arena)))
		}
	}
	if l.spec.Hashed {
		l.digests = append(l.digests, digest)
	}
	return true
}

// parseNumber reads a number cell: a finite decimal number, or an empty
// cell, which is NULL (NaN inside the table).
func parseNumber(s string) (float64, bool) {
	if s == "" {
		return math.NaN(), true
	}
	if strings.Trim(s, "0123456789+-.eE") != "" {
		return 0, false
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(n, 0) {
		return 0, false
	}
	return n, true
}

// csvProblem reports an error of the CSV reader at its line.
func (l *loader) csvProblem(err error) {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		l.bad(0, "", "%v", err)
		return
	}
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		l.bad(pe.StartLine, "", "wrong number of fields: the header has %d", len(l.t.cols))
		return
	}
	l.bad(pe.Line, "", "%s", quoting(pe))
}

// index freezes the arena and builds the key index, reporting duplicate
// keys at the line of their second use.
func (l *loader) index() {
	t := l.t
	t.arena = string(l.arena)
	l.arena = nil
	first := func(row uint32) int { return int(l.lines[row]) }
	if t.hashed {
		t.hindex = make(map[[sha256.Size]byte]uint32, t.rows)
		for r, d := range l.digests {
			if prev, dup := t.hindex[d]; dup {
				l.bad(int(l.lines[r]), t.cols[t.key].name, "duplicate key: the same digest is on line %d", first(prev))
				continue
			}
			t.hindex[d] = uint32(r)
		}
		return
	}
	t.index = make(map[string]uint32, t.rows)
	kc := t.key
	for r := range t.rows {
		k := t.Text(r, kc)
		if prev, dup := t.index[k]; dup {
			l.bad(int(l.lines[r]), t.cols[kc].name, "duplicate key: first on line %d", first(prev))
			if len(l.problems) >= maxProblems {
				l.bad(0, "", "stopped after %d problems", maxProblems)
				return
			}
			continue
		}
		t.index[k] = uint32(r)
	}
}

// quoting describes a CSV syntax error; when a quoted field spans lines,
// it says where the field opened, which is where the mistake usually is.
func quoting(pe *csv.ParseError) string {
	msg := fmt.Sprintf("bad CSV quoting at character %d: %v", pe.Column, pe.Err)
	if pe.StartLine != pe.Line {
		msg += fmt.Sprintf(" (in the record that starts on line %d)", pe.StartLine)
	}
	return msg
}
