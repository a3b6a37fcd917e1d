package expr

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

type operator uint8

const (
	opAnd operator = iota + 1
	opOr
	opEq
	opNe
	opGt
	opGe
	opLt
	opLe
	opContains
	opHas
	opIn
	opNotIn
)

// String returns the operator as canonical text spells it.
func (op operator) String() string {
	switch op {
	case opAnd:
		return "AND"
	case opOr:
		return "OR"
	case opEq:
		return "=="
	case opNe:
		return "!="
	case opGt:
		return ">"
	case opGe:
		return ">="
	case opLt:
		return "<"
	case opLe:
		return "<="
	case opContains:
		return "CONTAINS"
	case opHas:
		return "HAS"
	case opIn:
		return "IN"
	case opNotIn:
		return "NOT IN"
	}
	return "?"
}

// operand is one side of a comparison: a reference, or a constant (a list
// literal is a constant whose value is precomputed as an array).
type operand struct {
	ref   *Ref
	c     value
	raw   any // the constant as JSON would decode it, for printing
	isLst bool
}

func (o *operand) write(sb *strings.Builder) {
	if o.ref != nil {
		sb.WriteString(o.ref.text)
		return
	}
	writeConst(sb, o.raw)
}

// node is a comparison (l op r) or an AND/OR of kids.
type node struct {
	op     operator
	kids   []*node
	l, r   operand
	parens int    // how many pairs of parentheses were written around it
	text   string // canonical text of a comparison, without its parentheses
}

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
	// bareRoot is the document a reference without a root reads: the
	// task in a Workflow filter, the worker in a target expression.
	bareRoot refRoot
	scope    *Scope // nil outside a policy: no tables
}

func (p *parser) peek() *token { return &p.toks[p.i] }

func (p *parser) next() *token {
	t := &p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(pos int, format string, args ...any) *SyntaxError {
	return newSyntaxError(p.src, pos, format, args...)
}

// isWord reports whether t is the keyword w, in any case.
func isWord(t *token, w string) bool {
	return t.kind == tokIdent && strings.EqualFold(t.text, w)
}

func isKeyword(t *token) bool {
	for _, w := range [...]string{"AND", "OR", "NOT", "IN", "HAS", "CONTAINS"} {
		if isWord(t, w) {
			return true
		}
	}
	return false
}

func (p *parser) parseOr() (*node, error) {
	return p.parseChain(opOr, "OR", "||", p.parseAnd)
}

func (p *parser) parseAnd() (*node, error) {
	return p.parseChain(opAnd, "AND", "&&", p.parsePrimary)
}

// parseChain parses operands joined by one logical operator, spelled as a
// keyword or a symbol, into one flat node: chains never deepen the tree.
func (p *parser) parseChain(op operator, word, symbol string, sub func() (*node, error)) (*node, error) {
	first, err := sub()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for t := p.peek(); isWord(t, word) || (t.kind == tokOp && t.text == symbol); t = p.peek() {
		p.next()
		k, err := sub()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &node{op: op, kids: kids}, nil
}

func (p *parser) parsePrimary() (*node, error) {
	t := p.peek()
	if t.kind != tokLParen {
		return p.parseComparison()
	}
	open := p.next()
	p.depth++
	if p.depth > maxDepth {
		return nil, p.errAt(open.pos, "parentheses nested more than %d deep", maxDepth)
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	switch c := p.next(); {
	case c.kind == tokRParen:
	case c.kind == tokEOF:
		return nil, p.errAt(c.pos, `missing ")" to close the "(" at column %d`, utf8.RuneCountInString(p.src[:open.pos])+1)
	default:
		return nil, p.errAt(c.pos, `expected AND, OR or ")", found %s`, c.describe())
	}
	p.depth--
	n.parens++
	return n, nil
}

// comparisonOp maps an operator token to its operator, or 0. NOT stands
// for NOT IN; the parser checks that IN follows.
func comparisonOp(t *token) operator {
	switch t.kind {
	case tokOp:
		switch t.text {
		case "==", "=":
			return opEq
		case "!=":
			return opNe
		case ">":
			return opGt
		case ">=":
			return opGe
		case "<":
			return opLt
		case "<=":
			return opLe
		}
	case tokIdent:
		switch {
		case strings.EqualFold(t.text, "CONTAINS"):
			return opContains
		case strings.EqualFold(t.text, "HAS"):
			return opHas
		case strings.EqualFold(t.text, "IN"):
			return opIn
		case strings.EqualFold(t.text, "NOT"):
			return opNotIn
		}
	}
	return 0
}

func (p *parser) parseComparison() (*node, error) {
	lstart := p.peek().pos
	l, err := p.parseOperand(nil)
	if err != nil {
		return nil, err
	}
	lend := p.toks[p.i-1].end
	opTok := p.next()
	op := comparisonOp(opTok)
	if op == 0 {
		return nil, p.errAt(opTok.pos, "expected an operator after %s", quoteSrc(p.src[lstart:lend]))
	}
	if op == opNotIn {
		if in := p.next(); !isWord(in, "IN") {
			return nil, p.errAt(in.pos, "expected IN after NOT, found %s", in.describe())
		}
	}
	rstart := p.peek().pos
	r, err := p.parseOperand(p.toks[p.i-1:])
	if err != nil {
		return nil, err
	}
	if l.isLst && op != opHas {
		return nil, p.errAt(lstart, "a list is only allowed on the left of HAS or the right of IN and NOT IN")
	}
	if r.isLst && op != opIn && op != opNotIn {
		return nil, p.errAt(rstart, "a list is only allowed on the left of HAS or the right of IN and NOT IN")
	}
	if err := p.checkTableOperands(&l, &r, op, lstart, rstart); err != nil {
		return nil, err
	}
	n := &node{op: op, l: l, r: r}
	var sb strings.Builder
	l.write(&sb)
	sb.WriteString(" " + op.String() + " ")
	r.write(&sb)
	n.text = sb.String()
	return n, nil
}

// parseOperand parses a constant, list or reference. after, when not nil,
// starts with the operator token the operand follows, for error messages.
func (p *parser) parseOperand(after []token) (operand, error) {
	t := p.peek()
	bad := func() (operand, error) {
		if t.kind == tokEOF && after != nil {
			return operand{}, p.errAt(t.pos, "expected a value after %q", after[0].text)
		}
		if t.kind == tokEOF && p.i == 0 {
			return operand{}, p.errAt(0, "empty expression")
		}
		if t.kind == tokEOF {
			return operand{}, p.errAt(t.pos, "expected a comparison after %q", p.toks[p.i-1].text)
		}
		return operand{}, p.errAt(t.pos, "expected a value, found %s", t.describe())
	}
	switch t.kind {
	case tokString:
		p.next()
		return operand{c: value{k: jStr, s: t.str}, raw: t.str}, nil
	case tokNumber:
		p.next()
		return operand{c: value{k: jNum, n: t.num}, raw: t.num}, nil
	case tokLBrack:
		return p.parseList()
	case tokIdent:
		switch {
		case strings.EqualFold(t.text, "true"):
			p.next()
			return operand{c: value{k: jBool, b: true}, raw: true}, nil
		case strings.EqualFold(t.text, "false"):
			p.next()
			return operand{c: value{k: jBool}, raw: false}, nil
		case isWord(t, "NOT"):
			return operand{}, p.errAt(t.pos, "expected a value, found %s; there is no NOT operator (use != or NOT IN)", t.describe())
		case isKeyword(t):
			return bad()
		}
		ref, err := p.parseRef()
		if err != nil {
			return operand{}, err
		}
		return operand{ref: ref}, nil
	}
	return bad()
}

func (p *parser) parseList() (operand, error) {
	open := p.next()
	list := []any{}
	if p.peek().kind == tokRBrack {
		p.next()
		return operand{c: value{k: jArr, a: list}, raw: list, isLst: true}, nil
	}
	for {
		t := p.next()
		switch {
		case t.kind == tokString:
			list = append(list, t.str)
		case t.kind == tokNumber:
			list = append(list, t.num)
		case isWord(t, "true"):
			list = append(list, true)
		case isWord(t, "false"):
			list = append(list, false)
		case t.kind == tokEOF:
			return operand{}, p.errAt(t.pos, `missing "]" to close the "[" at column %d`, utf8.RuneCountInString(p.src[:open.pos])+1)
		default:
			return operand{}, p.errAt(t.pos, "expected a constant in the list, found %s", t.describe())
		}
		switch t := p.next(); t.kind {
		case tokComma:
		case tokRBrack:
			return operand{c: value{k: jArr, a: list}, raw: list, isLst: true}, nil
		case tokEOF:
			return operand{}, p.errAt(t.pos, `missing "]" to close the "[" at column %d`, utf8.RuneCountInString(p.src[:open.pos])+1)
		default:
			return operand{}, p.errAt(t.pos, `expected "," or "]" in the list, found %s`, t.describe())
		}
	}
}

func (n *node) write(sb *strings.Builder) {
	for range n.parens {
		sb.WriteByte('(')
	}
	n.writeBare(sb, false)
	for range n.parens {
		sb.WriteByte(')')
	}
}

// writeBare writes n without its own parentheses. With groupAnd, AND kids
// written without parentheses get them, to show how AND and OR group.
func (n *node) writeBare(sb *strings.Builder, groupAnd bool) {
	switch n.op {
	case opAnd, opOr:
		for i, k := range n.kids {
			if i > 0 {
				sb.WriteString(" " + n.op.String() + " ")
			}
			if groupAnd && k.op == opAnd && k.parens == 0 {
				sb.WriteByte('(')
				k.write(sb)
				sb.WriteByte(')')
			} else {
				k.write(sb)
			}
		}
	default:
		sb.WriteString(n.text)
	}
}

func (n *node) warn(out *[]string) {
	switch n.op {
	case opOr:
		for _, k := range n.kids {
			if k.op == opAnd && k.parens == 0 {
				var sb strings.Builder
				n.writeBare(&sb, true)
				*out = append(*out, "AND and OR mixed without parentheses; read as "+sb.String())
				break
			}
		}
		fallthrough
	case opAnd:
		for _, k := range n.kids {
			k.warn(out)
		}
	default:
		n.warnOperands(out)
	}
	switch n.op {
	case opHas:
		if n.l.ref == nil && !n.l.isLst {
			*out = append(*out, n.text+" is always false: HAS needs an array on the left")
		}
	case opIn, opNotIn:
		if n.r.ref == nil && !n.r.isLst {
			*out = append(*out, n.text+" is always false: "+n.op.String()+" needs an array on the right")
		}
	}
}

// warnOperands warns about a comparison's operands: a bare key that looks
// like a misspelt root, and a day name Twilio never produces.
func (n *node) warnOperands(out *[]string) {
	for _, o := range [...]*operand{&n.l, &n.r} {
		if o.ref == nil {
			continue
		}
		if root := o.ref.rootLookalike(); root != "" {
			at := strings.IndexByte(o.ref.text, '.') + 1
			*out = append(*out, o.ref.text[at:]+" reads the "+o.ref.Root()+" attribute "+
				strconv.Quote(o.ref.steps[0].key)+"; did you mean "+root+"."+
				o.ref.text[at+len(o.ref.steps[0].key)+1:]+"?")
		}
		if note := o.ref.WorkerFieldNote(); note != "" {
			*out = append(*out, note)
		}
	}
	day, other := &n.l, &n.r
	if !day.isDay() {
		day, other = other, day
	}
	if !day.isDay() || other.ref != nil {
		return
	}
	var bad []string
	switch c := other.raw.(type) {
	case string:
		if !isWeekday(c) {
			bad = append(bad, strconv.Quote(c))
		}
	case []any:
		for _, e := range c {
			if s, ok := e.(string); ok && !isWeekday(s) {
				bad = append(bad, strconv.Quote(s))
			}
		}
	}
	if len(bad) > 0 {
		*out = append(*out, n.text+": "+strings.Join(bad, ", ")+" is not a day name; "+
			day.ref.text+" is one of \"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\", \"Sat\", \"Sun\"")
	}
}

// isDay reports whether the operand is now.weekday or taskrouter.dayOfWeek.
func (o *operand) isDay() bool {
	return o.ref != nil && (o.ref.clock == clockWeekday || o.ref.clock == clockUTCWeekday)
}
