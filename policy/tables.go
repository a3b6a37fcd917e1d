package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/assignd/assignd/policy/expr"
	"github.com/assignd/assignd/policy/table"
)

// Options changes how a policy and its tables are loaded. The zero value
// is the default.
type Options struct {
	// MaxTableBytes is the largest table file read; 0 means
	// table.DefaultMaxBytes (ASSIGND_MAX_TABLE_BYTES).
	MaxTableBytes int64
}

// ParseWith is Parse with options. A policy's tables section names CSV
// files relative to the directory of filename; they are read here, so a
// Policy holds its tables and its hash covers them.
func ParseWith(filename string, src []byte, opts Options) (*Policy, error) {
	return parse(filename, src, opts)
}

// LoadFileWith is LoadFile with options.
func LoadFileWith(path string, opts Options) (*Policy, error) {
	src, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return parse(path, src, opts)
}

// Tables returns the policy's tables, sorted by name.
func (p *Policy) Tables() []*table.Table { return p.tables }

// tableName is what a table may be called: it is written after tables.
// in expressions.
var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// tables reads the tables section and every table it names. Each table's
// problems are the policy's problems, as file:line: column: problem.
func (ps *parser) tables(n *yaml.Node, filename string, opts Options) (*expr.Scope, []*table.Table) {
	if n == nil {
		return nil, nil
	}
	sc := &expr.Scope{Tables: map[string]*table.Table{}}
	fields := ps.mapping(n, nil, "tables", nil)
	var out []*table.Table
	for _, k := range Keys(n) {
		v, ok := fields[k.Value]
		if !ok {
			continue
		}
		field := "tables." + k.Value
		if !tableName.MatchString(k.Value) {
			ps.errorf(k.Line, nil, field, "not a usable table name: letters, digits and _, not starting with a digit")
			continue
		}
		spec, ok := ps.tableSpec(v, field, filename, opts)
		if !ok {
			continue
		}
		spec.Name = k.Value
		t, err := table.Load(spec)
		var te *table.Error
		switch {
		case errors.As(err, &te):
			for _, tp := range te.Problems {
				ps.problems = append(ps.problems, Problem{File: tp.File, Line: tp.Line, Field: tp.Column, Msg: tp.Msg})
			}
		case err != nil:
			ps.errorf(v.Line, nil, field+".file", "%v", err)
		default:
			sc.Tables[spec.Name] = t
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *table.Table) int { return strings.Compare(a.Name(), b.Name()) })
	return sc, out
}

// tableSpec reads one table's mapping: file, key, hash and columns.
func (ps *parser) tableSpec(n *yaml.Node, field, filename string, opts Options) (table.Spec, bool) {
	spec := table.Spec{MaxBytes: opts.MaxTableBytes, Columns: map[string]table.Type{}}
	fields := ps.mapping(n, nil, field, []string{"file", "key", "hash", "columns"})
	ok := true
	scalar := func(name, what string) string {
		v, given := fields[name]
		switch {
		case !given:
			ps.errorf(n.Line, nil, field+"."+name, "missing: %s", what)
		case v.Kind != yaml.ScalarNode || v.Value == "":
			ps.errorf(v.Line, nil, field+"."+name, "must be %s", what)
		default:
			return v.Value
		}
		ok = false
		return ""
	}
	spec.File = scalar("file", "the CSV file, relative to the policy's directory")
	if spec.File != "" && !filepath.IsAbs(spec.File) {
		spec.File = filepath.Join(filepath.Dir(filename), spec.File)
	}
	spec.Key = scalar("key", "the name of the key column")
	if h, given := fields["hash"]; given {
		if h.Kind != yaml.ScalarNode || h.Value != "sha256" {
			ps.errorf(h.Line, nil, field+".hash", "%q is not a supported hash; the only one is sha256", h.Value)
			ok = false
		}
		spec.Hashed = true
	}
	if c, given := fields["columns"]; given {
		cols := ps.mapping(c, nil, field+".columns", nil)
		for _, k := range Keys(c) {
			v, present := cols[k.Value]
			if !present {
				continue
			}
			typ, good := table.ParseType(v.Value)
			if v.Kind != yaml.ScalarNode || !good {
				ps.errorf(v.Line, nil, field+".columns."+k.Value, "%q is not a column type; one of string, number", v.Value)
				ok = false
				continue
			}
			spec.Columns[k.Value] = typ
		}
	}
	return spec, ok
}

// bundleHash is the hex SHA-256 identifying a policy with its tables: the
// policy file's own SHA-256 when it has no tables, so that a policy's hash
// does not change by upgrading, and otherwise a digest of it and of each
// table's name and content digest, in name order.
func bundleHash(src []byte, tables []*table.Table) string {
	sum := sha256.Sum256(src)
	if len(tables) == 0 {
		return hex.EncodeToString(sum[:])
	}
	h := sha256.New()
	h.Write(sum[:])
	for _, t := range tables {
		ts := t.Sum()
		h.Write([]byte(t.Name()))
		h.Write([]byte{0})
		h.Write(ts[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// tableSummary is the part of Summary about tables: "" without tables,
// else e.g. ", 2 tables (blocked 120 rows, vip 3 rows)".
func tableSummary(tables []*table.Table) string {
	if len(tables) == 0 {
		return ""
	}
	parts := make([]string, len(tables))
	for i, t := range tables {
		parts[i] = t.Name() + " " + plural(t.Rows(), "row")
	}
	return ", " + plural(len(tables), "table") + " (" + strings.Join(parts, ", ") + ")"
}

// tablesSchema is the JSON Schema of the tables section.
func tablesSchema() map[string]any {
	return map[string]any{
		"description":   "data tables read as tables.NAME[KEY].COLUMN and X IN tables.NAME: CSV files with a header row",
		"type":          "object",
		"propertyNames": map[string]any{"pattern": tableName.String()},
		"additionalProperties": map[string]any{
			"type":                 "object",
			"additionalProperties": false,
			"required":             []string{"file", "key"},
			"properties": map[string]any{
				"file": map[string]any{"description": "the CSV file, relative to the policy's directory", "type": "string", "minLength": 1},
				"key":  map[string]any{"description": "the key column; keys must be unique", "type": "string", "minLength": 1},
				"hash": map[string]any{"description": "sha256: the key column holds the hex SHA-256 of each key (assignd table hash writes it)", "enum": []string{"sha256"}},
				"columns": map[string]any{
					"description":          "column types; columns not listed are strings",
					"type":                 "object",
					"additionalProperties": map[string]any{"enum": []string{"string", "number"}},
				},
			},
		},
	}
}

// lookups returns the table lookups of a rule that matched: its
// condition's, then its templates' up to the first that fails to render,
// as render stops there.
func (r *rule) lookups(env *expr.Env) []expr.Lookup {
	var out []expr.Lookup
	if r.when != nil {
		out = r.when.Lookups(env)
	}
	if r.workerWhen != nil {
		out = append(out, r.workerWhen.Lookups(env)...)
	}
	for _, rp := range r.params {
		if rp.tmpl == nil {
			continue
		}
		out = append(out, rp.tmpl.Lookups(env)...)
		if _, err := rp.tmpl.Render(env); err != nil {
			break
		}
	}
	return out
}
