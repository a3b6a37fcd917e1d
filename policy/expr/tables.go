package expr

import (
	"slices"
	"strconv"
	"strings"

	"github.com/assignd/assignd/policy/table"
)

// Scope is what a policy defines beside the built-in roots: the data
// tables its conditions and templates read as tables.NAME. Expressions
// compiled in a scope hold its tables, so a policy and its tables are one
// immutable bundle.
type Scope struct {
	// Tables are the tables by name.
	Tables map[string]*table.Table
}

// Compile is the package's Compile, with the scope's tables.
func (sc *Scope) Compile(src string) (*Expr, error) { return compile(src, refTask, sc) }

// CompileTarget is the package's CompileTarget, with the scope's tables.
func (sc *Scope) CompileTarget(src string) (*Expr, error) { return compile(src, refWorker, sc) }

// CompileTemplate is the package's CompileTemplate, with the scope's
// tables; a placeholder may read a table's cell, tables.NAME[KEY].COLUMN.
func (sc *Scope) CompileTemplate(src string, isURL bool) (*Template, error) {
	return compileTemplate(src, isURL, sc)
}

// tableRef is a reference into a table: the whole table (set), for X IN
// tables.NAME, or the row whose key is the value of key, and one of its
// columns unless col is -1.
type tableRef struct {
	t   *table.Table
	key operand
	set bool
	col int
	typ table.Type
}

// parseTableRef parses tables.NAME, tables.NAME[KEY] or
// tables.NAME[KEY].COLUMN after the root token, resolving the table and
// column in the parser's scope. KEY is a reference or a string or number
// constant, and may have spaces around it inside the brackets.
func (p *parser) parseTableRef(rootTok *token) (*Ref, error) {
	p.next() // the dot, which the caller saw
	nameTok := p.peek()
	if nameTok.kind != tokIdent || nameTok.pos != rootTok.end+1 {
		return nil, p.errAt(rootTok.end+1, `expected a table name after "tables."`)
	}
	p.next()
	tr := &tableRef{col: -1}
	if p.scope != nil {
		tr.t = p.scope.Tables[nameTok.text]
	}
	if tr.t == nil {
		return nil, p.errAt(nameTok.pos, "unknown table %q; %s", nameTok.text, p.scope.tableNames())
	}
	ref := &Ref{tab: tr, text: RootTables + "." + nameTok.text}
	if t := p.peek(); t.kind != tokLBrack || t.pos != nameTok.end {
		tr.set = true
		return ref, nil
	}
	p.next()
	if t := p.peek(); t.kind == tokRBrack || t.kind == tokEOF {
		return nil, p.errAt(t.pos, `expected a key (a reference or a string or number) after "["`)
	}
	keyPos := p.peek().pos
	key, err := p.parseOperand(nil)
	if err != nil {
		return nil, err
	}
	if key.isLst || (key.ref == nil && key.c.k != jStr && key.c.k != jNum) || (key.ref != nil && key.ref.tab != nil) {
		return nil, p.errAt(keyPos, "a table key is a reference such as task.from, or a string or number")
	}
	tr.key = key
	c := p.next()
	if c.kind != tokRBrack {
		return nil, p.errAt(c.pos, `expected "]" after the key, found %s`, c.describe())
	}
	var sb strings.Builder
	sb.WriteString(ref.text + "[")
	key.write(&sb)
	sb.WriteString("]")
	if d := p.peek(); d.kind == tokDot && d.pos == c.end {
		p.next()
		colTok := p.peek()
		if colTok.kind != tokIdent || colTok.pos != d.end {
			return nil, p.errAt(d.end, `expected a column name after "."`)
		}
		p.next()
		col, typ, ok := tr.t.Column(colTok.text)
		if !ok {
			return nil, p.errAt(colTok.pos, "table %q has no column %q; %s", nameTok.text, colTok.text, columnNames(tr.t))
		}
		tr.col, tr.typ = col, typ
		sb.WriteString("." + colTok.text)
		if n := p.peek(); (n.kind == tokDot || n.kind == tokLBrack) && n.pos == colTok.end {
			return nil, p.errAt(n.pos, "a table cell is a string or a number: nothing follows its column")
		}
	}
	ref.text = sb.String()
	return ref, nil
}

// tableNames lists the scope's tables for an error message.
func (sc *Scope) tableNames() string {
	if sc == nil || len(sc.Tables) == 0 {
		return "the policy defines no tables"
	}
	names := make([]string, 0, len(sc.Tables))
	for n := range sc.Tables {
		names = append(names, n)
	}
	slices.Sort(names)
	return "the policy defines " + strings.Join(names, ", ")
}

// columnNames lists the columns a reference may read, for an error message.
func columnNames(t *table.Table) string {
	var names []string
	for _, c := range t.Columns() {
		if _, _, ok := t.Column(c); ok {
			names = append(names, c)
		}
	}
	if len(names) == 0 {
		return "it has no readable columns"
	}
	return "it has " + strings.Join(names, ", ")
}

// checkTableOperands refuses a whole table anywhere but on the right of
// IN and NOT IN.
func (p *parser) checkTableOperands(l, r *operand, op operator, lstart, rstart int) error {
	if l.ref.isSet() {
		return p.errAt(lstart, "%s is a whole table: test it with X IN %s, or read a row with %s[KEY].COLUMN", l.ref.text, l.ref.text, l.ref.text)
	}
	if r.ref.isSet() && op != opIn && op != opNotIn {
		return p.errAt(rstart, "%s is a whole table: only IN and NOT IN take one; read a row with %s[KEY].COLUMN", r.ref.text, r.ref.text)
	}
	return nil
}

// isSet reports whether r is a whole table, for membership tests.
func (r *Ref) isSet() bool { return r != nil && r.tab != nil && r.tab.set }

// find returns the row for the key's value: a string as it is, a number
// as policies write numbers (42, 3.5); any other value finds nothing.
func (tr *tableRef) find(k value) (int, bool) {
	switch k.k {
	case jStr:
		return tr.t.Find(k.s)
	case jNum:
		return tr.t.FindNumber(k.n)
	}
	return 0, false
}

// contains evaluates X IN tables.NAME and X NOT IN tables.NAME. As with a
// list, a NULL or non-scalar X makes both false.
func (tr *tableRef) contains(op operator, x value) bool {
	if !x.scalar() {
		return false
	}
	_, found := tr.find(x)
	return found == (op == opIn)
}

// eval returns the cell, NULL when the key finds no row or the cell is
// empty in a number column; a row read without a column is an object.
func (tr *tableRef) eval(env *Env) value {
	row, ok := tr.find(tr.key.eval(env))
	switch {
	case !ok:
		return value{}
	case tr.col < 0:
		return value{k: jObj}
	case tr.typ == table.Number:
		n, ok := tr.t.Number(row, tr.col)
		if !ok {
			return value{}
		}
		return value{k: jNum, n: n}
	}
	return value{k: jStr, s: tr.t.Text(row, tr.col)}
}

// lookup is Ref.lookup for a table reference.
func (tr *tableRef) lookup(env *Env) (any, string) {
	k := tr.key.eval(env)
	if tr.key.ref != nil && k.k == jNull {
		return nil, "the key " + tr.key.ref.text + " is NULL"
	}
	if _, ok := tr.find(k); !ok {
		return nil, "no row for the key in table " + tr.t.Name()
	}
	v := tr.eval(env)
	switch v.k {
	case jStr:
		return v.s, ""
	case jNum:
		return v.n, ""
	case jObj:
		return map[string]any{}, ""
	}
	return nil, "empty cell"
}

// keyRefs appends what a reference reads from the documents: for a table
// reference, its key's reference, if any; otherwise the reference itself.
func (r *Ref) keyRefs(out *[]*Ref) {
	if r.tab == nil {
		*out = append(*out, r)
	} else if r.tab.key.ref != nil {
		*out = append(*out, r.tab.key.ref)
	}
}

// shown describes a reference's value in an explanation; a hashed table's
// cells are never shown.
func (r *Ref) shown(v any) string {
	if r.tab != nil && r.tab.t.Hashed() {
		return "found (values of hashed table " + r.tab.t.Name() + " are not shown)"
	}
	return describe(v)
}

// appendShown appends shown(v) to b; a string, the usual value, is
// quoted into b directly.
func (r *Ref) appendShown(b []byte, v any) []byte {
	if s, isString := v.(string); isString && len(s) <= describeMax && (r.tab == nil || !r.tab.t.Hashed()) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, r.shown(v)...)
}

// Lookup is one table lookup an evaluation made, for explanations. It
// never holds the key, and holds a cell only for a table that is not
// hashed.
type Lookup struct {
	// Table is the table's name.
	Table string `json:"table"`
	// Ref is the reference as canonical text, such as
	// tables.vip[task.from].desk, or the IN or NOT IN comparison.
	Ref string `json:"ref"`
	// Hit reports whether the key found a row.
	Hit bool `json:"hit"`
	// Value is the cell read, a string or a float64, for a table that is
	// not hashed and a hit with a non-empty cell; nil otherwise.
	Value any `json:"value,omitempty"`
}

// Lookups returns the table lookups evaluating the expression makes for
// env, in evaluation order: AND and OR stop where Eval stops.
func (e *Expr) Lookups(env *Env) []Lookup {
	var out []Lookup
	e.root.lookups(env, &out)
	return out
}

func (n *node) lookups(env *Env, out *[]Lookup) bool {
	switch n.op {
	case opAnd:
		for _, k := range n.kids {
			if !k.lookups(env, out) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if k.lookups(env, out) {
				return true
			}
		}
		return false
	}
	for _, o := range [...]*operand{&n.l, &n.r} {
		if o.ref.isSet() {
			_, hit := o.ref.tab.find(n.l.eval(env))
			*out = append(*out, Lookup{Table: o.ref.tab.t.Name(), Ref: n.text, Hit: hit})
		} else if o.ref != nil && o.ref.tab != nil {
			*out = append(*out, o.ref.tab.record(o.ref.text, env))
		}
	}
	return n.eval(env)
}

// Lookups returns the table lookups rendering the template makes for env.
func (t *Template) Lookups(env *Env) []Lookup {
	var out []Lookup
	for _, p := range t.parts {
		if p.ref != nil && p.ref.tab != nil {
			out = append(out, p.ref.tab.record(p.ref.text, env))
		}
	}
	return out
}

// record builds the Lookup of one row or cell reference.
func (tr *tableRef) record(text string, env *Env) Lookup {
	_, hit := tr.find(tr.key.eval(env))
	l := Lookup{Table: tr.t.Name(), Ref: text, Hit: hit}
	if hit && !tr.t.Hashed() && tr.col >= 0 {
		if v, _ := tr.lookup(env); v != nil {
			l.Value = v
		}
	}
	return l
}

// whyMember explains a false X IN tables.NAME or X NOT IN tables.NAME.
func (n *node) whyMember(env *Env) string {
	x := n.l.eval(env)
	if n.l.ref != nil && x.k == jNull {
		v, reason := n.l.ref.lookup(env)
		if v == nil {
			return n.text + " is false: " + n.l.ref.text + " is NULL (" + reason + ")"
		}
	}
	if !x.scalar() {
		return n.text + " is false (" + n.op.String() + " needs a string or number on the left)"
	}
	if n.op == opIn {
		return n.text + " is false (no row has the key)"
	}
	return n.text + " is false (a row has the key)"
}

// checkTemplateRef refuses what a placeholder cannot insert from a table:
// the whole table, or a row without a column.
func checkTemplateRef(r *Ref) error {
	switch {
	case r.tab == nil:
		return nil
	case r.tab.set:
		return &SyntaxError{Src: r.text, Col: 1, Msg: r.text + " is a whole table; insert a cell with " + r.text + "[KEY].COLUMN"}
	case r.tab.col < 0:
		return &SyntaxError{Src: r.text, Col: 1, Msg: r.text + " is a row; insert one of its cells with " + r.text + ".COLUMN"}
	}
	return nil
}
