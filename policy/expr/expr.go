package expr

// This file implements TaskRouter's expression language: the SQL-like
// conditions of Workflow filters and TaskQueue target_workers, with every
// reference rooted at task., worker., callback. or now.
//
// Grammar (keywords and true/false are case-insensitive):
//
//	expr       = and { ("OR" | "||") and }
//	and        = primary { ("AND" | "&&") primary }
//	primary    = "(" expr ")" | comparison
//	comparison = operand op operand
//	op         = "==" | "=" | "!=" | ">" | ">=" | "<" | "<=" |
//	             "CONTAINS" | "HAS" | "IN" | "NOT" "IN"
//	operand    = string | number | "true" | "false" | list | ref
//	list       = "[" [ constant { "," constant } ] "]"
//	ref        = root ( "." key ) { "." key | "[" index "]" }
//
// AND binds tighter than OR, as in SQL; TaskRouter does not document its
// precedence, so mixing the two without parentheses compiles but produces a
// warning that spells out the grouping. Strings are single- or double-quoted;
// inside them a backslash escapes a quote of either kind or a backslash, and
// any other escape is an error (TaskRouter documents no escapes, so we accept
// only the ones needed to write every string). Numbers are decimal, optionally
// negative, with an optional fraction: -1, 3.5; there are no exponents.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits that keep hostile input (a fuzzer, a careless config) from
// exhausting the stack or memory. Nesting only grows through parentheses,
// because AND and OR chains are flat, so the depth limit bounds every
// recursion in the parser, evaluator and printers.
const (
	// maxExprLen is the longest expression accepted, in bytes. It applies to
	// both the source and its canonical form, so that a canonical form
	// always compiles again.
	maxExprLen = 4096
	// maxExprDepth is the deepest nesting of parentheses accepted.
	maxExprDepth = 64
)

// SyntaxError reports why an expression or a template placeholder does not
// compile, and where.
type SyntaxError struct {
	// Src is the text that failed to compile.
	Src string
	// Col is the 1-based column, counted in characters, of the offending
	// token; a column one past the end means the text ended too early.
	Col int
	// Msg says what was wrong, in lower case.
	Msg string
}

// Error returns a single line such as
// `column 12: expected an operator after "task.x"`.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("column %d: %s", e.Col, e.Msg)
}

// Caret returns two lines: the source, with tabs and line breaks shown as
// spaces so that columns line up, and a "^" under the offending column.
func (e *SyntaxError) Caret() string {
	line := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, e.Src)
	col := e.Col
	if col < 1 {
		col = 1
	}
	return line + "\n" + strings.Repeat(" ", col-1) + "^"
}

// newExprSyntaxError builds a SyntaxError at byte offset pos of src.
func newExprSyntaxError(src string, pos int, format string, args ...any) *SyntaxError {
	if pos > len(src) {
		pos = len(src)
	}
	return &SyntaxError{Src: src, Col: utf8.RuneCountInString(src[:pos]) + 1, Msg: fmt.Sprintf(format, args...)}
}

// ---------------------------------------------------------------------------
// Lexer

type exprTokKind uint8

const (
	xtEOF exprTokKind = iota
	xtIdent
	xtString
	xtNumber
	xtOp // == = != > >= < <= && ||
	xtDot
	xtLBrack
	xtRBrack
	xtLParen
	xtRParen
	xtComma
)

type exprToken struct {
	kind     exprTokKind
	pos, end int    // byte offsets into the source
	text     string // the raw source text
	str      string // the decoded value of a string
	num      float64
}

// describe names a token for error messages.
func (t *exprToken) describe() string {
	if t.kind == xtEOF {
		return "the end"
	}
	return quoteSrc(t.text)
}

// quoteSrc quotes source text for an error message; a string literal is
// shown as written rather than quoted a second time, unless it holds line
// breaks or other characters that would break the one-line message.
func quoteSrc(s string) string {
	printable := utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !strconv.IsPrint(r) })
	if s != "" && (s[0] == '"' || s[0] == '\'') && printable {
		return s
	}
	return strconv.Quote(s)
}

func exprIdentStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func exprIdentChar(c byte) bool { return exprIdentStart(c) || exprDigit(c) }

func exprDigit(c byte) bool { return '0' <= c && c <= '9' }

// lexExpr splits src into tokens, ending with an EOF token.
func lexExpr(src string) ([]exprToken, error) {
	var toks []exprToken
	i := 0
	for {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
			i++
		}
		if i >= len(src) {
			toks = append(toks, exprToken{kind: xtEOF, pos: len(src), end: len(src)})
			return toks, nil
		}
		start := i
		c := src[i]
		tok := exprToken{pos: start}
		switch {
		case exprIdentStart(c):
			for i < len(src) && exprIdentChar(src[i]) {
				i++
			}
			tok.kind = xtIdent
		case exprDigit(c) || (c == '-' && i+1 < len(src) && exprDigit(src[i+1])):
			i++
			for i < len(src) && exprDigit(src[i]) {
				i++
			}
			if i < len(src) && src[i] == '.' {
				i++
				if i >= len(src) || !exprDigit(src[i]) {
					return nil, newExprSyntaxError(src, i, "expected a digit after %q in a number", src[start:i])
				}
				for i < len(src) && exprDigit(src[i]) {
					i++
				}
			}
			if i < len(src) && (exprIdentChar(src[i]) || src[i] == '.') {
				j := i
				for j < len(src) && (exprIdentChar(src[j]) || src[j] == '.') {
					j++
				}
				return nil, newExprSyntaxError(src, start, "invalid number %q", src[start:j])
			}
			n, err := strconv.ParseFloat(src[start:i], 64)
			if err != nil {
				return nil, newExprSyntaxError(src, start, "number %q is out of range", src[start:i])
			}
			tok.kind, tok.num = xtNumber, n
		case c == '"' || c == '\'':
			var sb strings.Builder
			i++
			closed := false
			for i < len(src) {
				d := src[i]
				if d == c {
					i++
					closed = true
					break
				}
				if d == '\\' {
					if i+1 >= len(src) {
						break
					}
					e := src[i+1]
					if e != '"' && e != '\'' && e != '\\' {
						_, size := utf8.DecodeRuneInString(src[i+1:])
						return nil, newExprSyntaxError(src, i, "unknown escape %q in a string; only \\\", \\' and \\\\ are allowed", src[i:i+1+size])
					}
					sb.WriteByte(e)
					i += 2
					continue
				}
				sb.WriteByte(d)
				i++
			}
			if !closed {
				return nil, newExprSyntaxError(src, start, "unterminated string")
			}
			tok.kind, tok.str = xtString, sb.String()
		default:
			two := ""
			if i+1 < len(src) {
				two = src[i : i+2]
			}
			switch {
			case two == "==" || two == "!=" || two == ">=" || two == "<=" || two == "&&" || two == "||":
				tok.kind = xtOp
				i += 2
			case c == '=' || c == '>' || c == '<':
				tok.kind = xtOp
				i++
			case c == '.':
				tok.kind = xtDot
				i++
			case c == '[':
				tok.kind = xtLBrack
				i++
			case c == ']':
				tok.kind = xtRBrack
				i++
			case c == '(':
				tok.kind = xtLParen
				i++
			case c == ')':
				tok.kind = xtRParen
				i++
			case c == ',':
				tok.kind = xtComma
				i++
			case c == '!':
				return nil, newExprSyntaxError(src, i, `unexpected "!"; there is no NOT operator (use != or NOT IN)`)
			case c == '&':
				return nil, newExprSyntaxError(src, i, `unexpected "&"; use AND or &&`)
			case c == '|':
				return nil, newExprSyntaxError(src, i, `unexpected "|"; use OR or ||`)
			case c == '-':
				return nil, newExprSyntaxError(src, i, `unexpected "-"; hyphens are not supported in expressions`)
			default:
				r, size := utf8.DecodeRuneInString(src[i:])
				if r == utf8.RuneError && size <= 1 {
					return nil, newExprSyntaxError(src, i, "invalid UTF-8")
				}
				return nil, newExprSyntaxError(src, i, "unexpected character %q", r)
			}
		}
		tok.end = i
		tok.text = src[start:i]
		toks = append(toks, tok)
	}
}

// ---------------------------------------------------------------------------
// Values

// jsonKind is the JSON type of a value during evaluation.
type jsonKind uint8

const (
	jNull jsonKind = iota
	jStr
	jNum
	jBool
	jArr
	jObj
)

// exprValue is an evaluated operand. It is a plain struct, passed by value, so
// that evaluation never boxes numbers into interfaces and never allocates.
type exprValue struct {
	k jsonKind
	b bool
	n float64
	s string
	a []any
}

func (v exprValue) scalar() bool { return v.k == jStr || v.k == jNum || v.k == jBool }

// exprValueOf converts a decoded JSON value. Besides encoding/json's types it
// accepts Go integers and float32, which callers building an Env by hand may
// use; any other type is NULL.
func exprValueOf(x any) exprValue {
	switch v := x.(type) {
	case string:
		return exprValue{k: jStr, s: v}
	case float64:
		return exprValue{k: jNum, n: v}
	case bool:
		return exprValue{k: jBool, b: v}
	case []any:
		return exprValue{k: jArr, a: v}
	case map[string]any:
		return exprValue{k: jObj}
	case int:
		return exprValue{k: jNum, n: float64(v)}
	case int64:
		return exprValue{k: jNum, n: float64(v)}
	case int32:
		return exprValue{k: jNum, n: float64(v)}
	case float32:
		return exprValue{k: jNum, n: float64(v)}
	case json.Number:
		if n, err := v.Float64(); err == nil {
			return exprValue{k: jNum, n: n}
		}
	}
	return exprValue{}
}

func (k jsonKind) String() string {
	switch k {
	case jStr:
		return "a string"
	case jNum:
		return "a number"
	case jBool:
		return "a boolean"
	case jArr:
		return "an array"
	case jObj:
		return "an object"
	}
	return "NULL"
}

// exprScalarEq is == on two non-NULL scalars: same type and same value, with no
// coercion.
func exprScalarEq(a, b exprValue) bool {
	if a.k != b.k {
		return false
	}
	switch a.k {
	case jStr:
		return a.s == b.s
	case jNum:
		return a.n == b.n
	case jBool:
		return a.b == b.b
	}
	return false
}

// exprElemEq is == between an array element and a scalar. The common JSON types
// are matched directly so that no value struct is built per element.
func exprElemEq(e any, v exprValue) bool {
	switch x := e.(type) {
	case string:
		return v.k == jStr && x == v.s
	case float64:
		return v.k == jNum && x == v.n
	case bool:
		return v.k == jBool && x == v.b
	case nil, []any, map[string]any:
		return false
	}
	ev := exprValueOf(e)
	return ev.scalar() && exprScalarEq(ev, v)
}

func exprArrayHas(a []any, v exprValue) bool {
	for _, e := range a {
		if exprElemEq(e, v) {
			return true
		}
	}
	return false
}

// formatJSONNumber prints a number the way canonical text and templates do: the
// shortest decimal that reads back as the same float64, never an exponent.
func formatJSONNumber(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// exprQuote writes s double-quoted, escaping only what the lexer requires.
func exprQuote(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			sb.WriteByte('\\')
		}
		sb.WriteByte(s[i])
	}
	sb.WriteByte('"')
}

// exprWriteConst writes a constant or list literal in canonical form.
func exprWriteConst(sb *strings.Builder, x any) {
	switch v := x.(type) {
	case string:
		exprQuote(sb, v)
	case float64:
		sb.WriteString(formatJSONNumber(v))
	case bool:
		sb.WriteString(strconv.FormatBool(v))
	case []any:
		sb.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				sb.WriteString(", ")
			}
			exprWriteConst(sb, e)
		}
		sb.WriteByte(']')
	}
}

// exprDescribe shows a value in explanations: JSON for documents, truncated
// so that an explanation stays one readable line.
func exprDescribe(x any) string {
	switch v := x.(type) {
	case string:
		return strconv.Quote(v)
	case float64:
		return formatJSONNumber(v)
	}
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprintf("%v", x)
	}
	const max = 80
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// ---------------------------------------------------------------------------
// References

type refRoot uint8

const (
	refTask refRoot = iota
	refWorker
	refCallback
	refNow
)

// refNowField selects one of the now.* values.
type refNowField uint8

const (
	refNowHour refNowField = iota + 1
	refNowMinute
	refNowWeekday
)

type refStep struct {
	key   string
	index int // the array index, or -1 for a key
}

// Ref is a parsed reference path: a root (task, worker, callback or now)
// followed by keys and array indices, such as task.object.array[2]. It is
// immutable after parsing and safe for concurrent use.
type Ref struct {
	root  refRoot
	now   refNowField
	steps []refStep
	text  string
}

// String returns the reference in canonical form, e.g. task.a[0].b.
func (r *Ref) String() string { return r.text }

// ParseRef parses a reference such as "worker.contact_uri" or "now.hour".
func ParseRef(src string) (*Ref, error) {
	toks, err := lexExpr(src)
	if err != nil {
		return nil, err
	}
	p := &exprParser{src: src, toks: toks}
	t := p.peek()
	if t.kind != xtIdent {
		return nil, p.errAt(t.pos, "expected a reference such as task.key, found %s", t.describe())
	}
	ref, err := p.parseRef()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != xtEOF {
		return nil, p.errAt(t.pos, "unexpected %s after %q", t.describe(), ref.text)
	}
	return ref, nil
}

// rootMap returns the document the reference starts in.
func (r *Ref) rootMap(env *Env) map[string]any {
	switch r.root {
	case refTask:
		return env.Task
	case refWorker:
		return env.Worker
	case refCallback:
		return env.Callback
	}
	return nil
}

// eval resolves the reference without allocating.
func (r *Ref) eval(env *Env) exprValue {
	if env == nil {
		return exprValue{}
	}
	if r.root == refNow {
		switch r.now {
		case refNowHour:
			return exprValue{k: jNum, n: float64(env.Hour)}
		case refNowMinute:
			return exprValue{k: jNum, n: float64(env.Minute)}
		default:
			return exprValue{k: jStr, s: env.Weekday}
		}
	}
	cur, ok := r.rootMap(env)[r.steps[0].key]
	if !ok {
		return exprValue{}
	}
	for _, s := range r.steps[1:] {
		if s.index < 0 {
			m, isMap := cur.(map[string]any)
			if !isMap {
				return exprValue{}
			}
			if cur, ok = m[s.key]; !ok {
				return exprValue{}
			}
		} else {
			a, isArr := cur.([]any)
			if !isArr || s.index >= len(a) {
				return exprValue{}
			}
			cur = a[s.index]
		}
	}
	return exprValueOf(cur)
}

// lookup resolves the reference to its JSON value. When the value is NULL it
// returns nil and, for explanations, why: "missing", "null",
// "task.a is not an array" and so on.
func (r *Ref) lookup(env *Env) (any, string) {
	if env == nil {
		return nil, "no environment"
	}
	if r.root == refNow {
		switch r.now {
		case refNowHour:
			return float64(env.Hour), ""
		case refNowMinute:
			return float64(env.Minute), ""
		default:
			return env.Weekday, ""
		}
	}
	prefix := r.text[:strings.IndexByte(r.text, '.')]
	var cur any = r.rootMap(env)
	for i, s := range r.steps {
		where := ""
		if i < len(r.steps)-1 {
			where = " at " + prefix
		}
		if s.index < 0 {
			m, ok := cur.(map[string]any)
			if !ok && i > 0 {
				return nil, fmt.Sprintf("%s is %s, not an object", prefix, exprValueOf(cur).k)
			}
			v, ok := m[s.key]
			if !ok {
				if i < len(r.steps)-1 {
					return nil, fmt.Sprintf("%s.%s is missing", prefix, s.key)
				}
				return nil, "missing"
			}
			cur = v
			prefix += "." + s.key
		} else {
			a, ok := cur.([]any)
			if !ok {
				return nil, fmt.Sprintf("%s is %s, not an array", prefix, exprValueOf(cur).k)
			}
			if s.index >= len(a) {
				return nil, fmt.Sprintf("index %d is out of range%s: the array has %d elements", s.index, where, len(a))
			}
			cur = a[s.index]
			prefix += "[" + strconv.Itoa(s.index) + "]"
		}
	}
	if cur == nil {
		return nil, "null"
	}
	if exprValueOf(cur).k == jNull {
		return nil, fmt.Sprintf("unsupported type %T", cur)
	}
	return cur, ""
}

// ---------------------------------------------------------------------------
// Parser and tree

type exprOp uint8

const (
	xAnd exprOp = iota + 1
	xOr
	xEq
	xNe
	xGt
	xGe
	xLt
	xLe
	xContains
	xHas
	xIn
	xNotIn
)

// String returns the operator as canonical text spells it.
func (op exprOp) String() string {
	switch op {
	case xAnd:
		return "AND"
	case xOr:
		return "OR"
	case xEq:
		return "=="
	case xNe:
		return "!="
	case xGt:
		return ">"
	case xGe:
		return ">="
	case xLt:
		return "<"
	case xLe:
		return "<="
	case xContains:
		return "CONTAINS"
	case xHas:
		return "HAS"
	case xIn:
		return "IN"
	case xNotIn:
		return "NOT IN"
	}
	return "?"
}

// exprOperand is one side of a comparison: a reference, or a constant (a list
// literal is a constant whose value is precomputed as an array).
type exprOperand struct {
	ref   *Ref
	c     exprValue
	raw   any // the constant as JSON would decode it, for printing
	isLst bool
}

func (o *exprOperand) eval(env *Env) exprValue {
	if o.ref != nil {
		return o.ref.eval(env)
	}
	return o.c
}

func (o *exprOperand) write(sb *strings.Builder) {
	if o.ref != nil {
		sb.WriteString(o.ref.text)
		return
	}
	exprWriteConst(sb, o.raw)
}

// exprNode is a comparison (l op r) or an AND/OR of kids.
type exprNode struct {
	op     exprOp
	kids   []*exprNode
	l, r   exprOperand
	parens int    // how many pairs of parentheses were written around it
	text   string // canonical text of a comparison, without its parentheses
}

type exprParser struct {
	src   string
	toks  []exprToken
	i     int
	depth int
}

func (p *exprParser) peek() *exprToken { return &p.toks[p.i] }

func (p *exprParser) next() *exprToken {
	t := &p.toks[p.i]
	if t.kind != xtEOF {
		p.i++
	}
	return t
}

func (p *exprParser) errAt(pos int, format string, args ...any) *SyntaxError {
	return newExprSyntaxError(p.src, pos, format, args...)
}

// exprIsWord reports whether t is the keyword w, in any case.
func exprIsWord(t *exprToken, w string) bool {
	return t.kind == xtIdent && strings.EqualFold(t.text, w)
}

func exprIsKeyword(t *exprToken) bool {
	for _, w := range [...]string{"AND", "OR", "NOT", "IN", "HAS", "CONTAINS"} {
		if exprIsWord(t, w) {
			return true
		}
	}
	return false
}

func (p *exprParser) parseOr() (*exprNode, error) {
	return p.parseChain(xOr, "OR", "||", p.parseAnd)
}

func (p *exprParser) parseAnd() (*exprNode, error) {
	return p.parseChain(xAnd, "AND", "&&", p.parsePrimary)
}

// parseChain parses operands joined by one logical operator, spelled as a
// keyword or a symbol, into one flat node: chains never deepen the tree.
func (p *exprParser) parseChain(op exprOp, word, symbol string, operand func() (*exprNode, error)) (*exprNode, error) {
	first, err := operand()
	if err != nil {
		return nil, err
	}
	kids := []*exprNode{first}
	for t := p.peek(); exprIsWord(t, word) || (t.kind == xtOp && t.text == symbol); t = p.peek() {
		p.next()
		k, err := operand()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &exprNode{op: op, kids: kids}, nil
}

func (p *exprParser) parsePrimary() (*exprNode, error) {
	t := p.peek()
	if t.kind != xtLParen {
		return p.parseComparison()
	}
	open := p.next()
	p.depth++
	if p.depth > maxExprDepth {
		return nil, p.errAt(open.pos, "parentheses nested more than %d deep", maxExprDepth)
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	switch c := p.next(); {
	case c.kind == xtRParen:
	case c.kind == xtEOF:
		return nil, p.errAt(c.pos, `missing ")" to close the "(" at column %d`, utf8.RuneCountInString(p.src[:open.pos])+1)
	default:
		return nil, p.errAt(c.pos, `expected AND, OR or ")", found %s`, c.describe())
	}
	p.depth--
	n.parens++
	return n, nil
}

// exprComparisonOp maps an operator token to its operator, or 0. NOT stands
// for NOT IN; the parser checks that IN follows.
func exprComparisonOp(t *exprToken) exprOp {
	switch t.kind {
	case xtOp:
		switch t.text {
		case "==", "=":
			return xEq
		case "!=":
			return xNe
		case ">":
			return xGt
		case ">=":
			return xGe
		case "<":
			return xLt
		case "<=":
			return xLe
		}
	case xtIdent:
		switch {
		case strings.EqualFold(t.text, "CONTAINS"):
			return xContains
		case strings.EqualFold(t.text, "HAS"):
			return xHas
		case strings.EqualFold(t.text, "IN"):
			return xIn
		case strings.EqualFold(t.text, "NOT"):
			return xNotIn
		}
	}
	return 0
}

func (p *exprParser) parseComparison() (*exprNode, error) {
	lstart := p.peek().pos
	l, err := p.parseOperand(nil)
	if err != nil {
		return nil, err
	}
	lend := p.toks[p.i-1].end
	opTok := p.next()
	op := exprComparisonOp(opTok)
	if op == 0 {
		return nil, p.errAt(opTok.pos, "expected an operator after %s", quoteSrc(p.src[lstart:lend]))
	}
	if op == xNotIn {
		if in := p.next(); !exprIsWord(in, "IN") {
			return nil, p.errAt(in.pos, "expected IN after NOT, found %s", in.describe())
		}
	}
	rstart := p.peek().pos
	r, err := p.parseOperand(p.toks[p.i-1:])
	if err != nil {
		return nil, err
	}
	if l.isLst && op != xHas {
		return nil, p.errAt(lstart, "a list is only allowed on the left of HAS or the right of IN and NOT IN")
	}
	if r.isLst && op != xIn && op != xNotIn {
		return nil, p.errAt(rstart, "a list is only allowed on the left of HAS or the right of IN and NOT IN")
	}
	n := &exprNode{op: op, l: l, r: r}
	var sb strings.Builder
	l.write(&sb)
	sb.WriteString(" " + op.String() + " ")
	r.write(&sb)
	n.text = sb.String()
	return n, nil
}

// parseOperand parses a constant, list or reference. after, when not nil,
// starts with the operator token the operand follows, for error messages.
func (p *exprParser) parseOperand(after []exprToken) (exprOperand, error) {
	t := p.peek()
	bad := func() (exprOperand, error) {
		if t.kind == xtEOF && after != nil {
			return exprOperand{}, p.errAt(t.pos, "expected a value after %q", after[0].text)
		}
		if t.kind == xtEOF && p.i == 0 {
			return exprOperand{}, p.errAt(0, "empty expression")
		}
		if t.kind == xtEOF {
			return exprOperand{}, p.errAt(t.pos, "expected a comparison after %q", p.toks[p.i-1].text)
		}
		return exprOperand{}, p.errAt(t.pos, "expected a value, found %s", t.describe())
	}
	switch t.kind {
	case xtString:
		p.next()
		return exprOperand{c: exprValue{k: jStr, s: t.str}, raw: t.str}, nil
	case xtNumber:
		p.next()
		return exprOperand{c: exprValue{k: jNum, n: t.num}, raw: t.num}, nil
	case xtLBrack:
		return p.parseList()
	case xtIdent:
		switch {
		case strings.EqualFold(t.text, "true"):
			p.next()
			return exprOperand{c: exprValue{k: jBool, b: true}, raw: true}, nil
		case strings.EqualFold(t.text, "false"):
			p.next()
			return exprOperand{c: exprValue{k: jBool}, raw: false}, nil
		case exprIsWord(t, "NOT"):
			return exprOperand{}, p.errAt(t.pos, "expected a value, found %s; there is no NOT operator (use != or NOT IN)", t.describe())
		case exprIsKeyword(t):
			return bad()
		}
		ref, err := p.parseRef()
		if err != nil {
			return exprOperand{}, err
		}
		return exprOperand{ref: ref}, nil
	}
	return bad()
}

func (p *exprParser) parseList() (exprOperand, error) {
	open := p.next()
	list := []any{}
	if p.peek().kind == xtRBrack {
		p.next()
		return exprOperand{c: exprValue{k: jArr, a: list}, raw: list, isLst: true}, nil
	}
	for {
		t := p.next()
		switch {
		case t.kind == xtString:
			list = append(list, t.str)
		case t.kind == xtNumber:
			list = append(list, t.num)
		case exprIsWord(t, "true"):
			list = append(list, true)
		case exprIsWord(t, "false"):
			list = append(list, false)
		case t.kind == xtEOF:
			return exprOperand{}, p.errAt(t.pos, `missing "]" to close the "[" at column %d`, utf8.RuneCountInString(p.src[:open.pos])+1)
		default:
			return exprOperand{}, p.errAt(t.pos, "expected a constant in the list, found %s", t.describe())
		}
		switch t := p.next(); t.kind {
		case xtComma:
		case xtRBrack:
			return exprOperand{c: exprValue{k: jArr, a: list}, raw: list, isLst: true}, nil
		case xtEOF:
			return exprOperand{}, p.errAt(t.pos, `missing "]" to close the "[" at column %d`, utf8.RuneCountInString(p.src[:open.pos])+1)
		default:
			return exprOperand{}, p.errAt(t.pos, `expected "," or "]" in the list, found %s`, t.describe())
		}
	}
}

// parseRef parses a reference starting at the current identifier token.
// Keys and indices must follow without spaces, as in task.a[0].b, so that a
// reference reads as one word.
func (p *exprParser) parseRef() (*Ref, error) {
	rootTok := p.next()
	ref := &Ref{}
	switch rootTok.text {
	case "task":
		ref.root = refTask
	case "worker":
		ref.root = refWorker
	case "callback":
		ref.root = refCallback
	case "now":
		ref.root = refNow
	default:
		return nil, p.errAt(rootTok.pos, "unknown root %q; use task., worker., callback. or now.", rootTok.text)
	}
	var sb strings.Builder
	sb.WriteString(rootTok.text)
	end := rootTok.end
	for {
		t := p.peek()
		if t.pos != end || (t.kind != xtDot && t.kind != xtLBrack) {
			break
		}
		if t.kind == xtLBrack && len(ref.steps) == 0 {
			return nil, p.errAt(t.pos, "expected \".\" and a key after %q", rootTok.text)
		}
		p.next()
		if t.kind == xtDot {
			k := p.peek()
			if k.kind != xtIdent || k.pos != t.end {
				return nil, p.errAt(t.end, `expected a key after "."`)
			}
			p.next()
			ref.steps = append(ref.steps, refStep{key: k.text, index: -1})
			sb.WriteString("." + k.text)
			end = k.end
			continue
		}
		n := p.next()
		idx := -1
		if n.kind == xtNumber && strings.Trim(n.text, "0123456789") == "" {
			if v, err := strconv.Atoi(n.text); err == nil && v <= 1<<30 {
				idx = v
			}
		}
		if idx < 0 {
			return nil, p.errAt(n.pos, `expected an array index (a non-negative integer) after "[", found %s`, n.describe())
		}
		c := p.next()
		if c.kind != xtRBrack {
			return nil, p.errAt(c.pos, `expected "]" after the index, found %s`, c.describe())
		}
		ref.steps = append(ref.steps, refStep{index: idx})
		sb.WriteString("[" + strconv.Itoa(idx) + "]")
		end = c.end
	}
	if len(ref.steps) == 0 {
		return nil, p.errAt(rootTok.end, "expected \".\" and a key after %q", rootTok.text)
	}
	if ref.root == refNow {
		if len(ref.steps) == 1 {
			switch ref.steps[0].key {
			case "hour":
				ref.now = refNowHour
			case "minute":
				ref.now = refNowMinute
			case "weekday":
				ref.now = refNowWeekday
			}
		}
		if ref.now == 0 {
			return nil, p.errAt(rootTok.pos, "unknown %s; now has only now.hour, now.minute and now.weekday", sb.String())
		}
	}
	ref.text = sb.String()
	return ref, nil
}

// ---------------------------------------------------------------------------
// Expr

// Env is what expressions and templates are evaluated against: the roots
// task, worker, callback and now.
type Env struct {
	Task, Worker, Callback map[string]any
	// Hour (0-23), Minute (0-59) and Weekday ("mon".."sun") are now.hour,
	// now.minute and now.weekday.
	Hour, Minute int
	Weekday      string
}

// Expr is a compiled TaskRouter expression. It is immutable and safe for
// concurrent use.
type Expr struct {
	src      string
	root     *exprNode
	canon    string
	warnings []string
}

// Compile parses src. The error, if any, is a *SyntaxError.
func Compile(src string) (*Expr, error) {
	if len(src) > maxExprLen {
		return nil, newExprSyntaxError(src, maxExprLen, "expression is longer than %d bytes", maxExprLen)
	}
	toks, err := lexExpr(src)
	if err != nil {
		return nil, err
	}
	p := &exprParser{src: src, toks: toks}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != xtEOF {
		if t.kind == xtRParen {
			return nil, p.errAt(t.pos, `unmatched ")"`)
		}
		return nil, p.errAt(t.pos, "expected AND, OR or the end of the expression, found %s", t.describe())
	}
	e := &Expr{src: src, root: root}
	var sb strings.Builder
	root.write(&sb)
	e.canon = sb.String()
	// The canonical form spells operators out and adds spaces, so it can be
	// longer than the source; rejecting it here keeps Canonical compilable.
	if len(e.canon) > maxExprLen {
		return nil, newExprSyntaxError(src, 0, "expression is longer than %d bytes once normalized", maxExprLen)
	}
	root.warn(&e.warnings)
	return e, nil
}

// Source returns the text the expression was compiled from.
func (e *Expr) Source() string { return e.src }

// Canonical returns the expression in normalized form: keywords upper-case,
// = written ==, && written AND, || written OR, single spaces, strings
// double-quoted, numbers in shortest decimal form, and the parentheses that
// were written. Two expressions with the same Canonical are the same
// condition, and Canonical compiles to itself.
func (e *Expr) Canonical() string { return e.canon }

// Warnings returns what compiles but is probably not what was meant, such as
// AND and OR mixed without parentheses.
func (e *Expr) Warnings() []string { return append([]string(nil), e.warnings...) }

// Eval reports whether the expression holds for env. It does not allocate
// (the cost of CONTAINS, HAS and IN is linear in their operands).
func (e *Expr) Eval(env *Env) bool { return e.root.eval(env) }

// Why explains, for explain output, why the expression is false for env: it
// names every false comparison that made it false (for OR, all branches; for
// AND, the first false operand), with the values its references had. It
// returns "" when the expression is true.
func (e *Expr) Why(env *Env) string {
	if e.root.eval(env) {
		return ""
	}
	var parts []string
	e.root.why(env, &parts)
	return strings.Join(parts, "; ")
}

func (n *exprNode) write(sb *strings.Builder) {
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
func (n *exprNode) writeBare(sb *strings.Builder, groupAnd bool) {
	switch n.op {
	case xAnd, xOr:
		for i, k := range n.kids {
			if i > 0 {
				sb.WriteString(" " + n.op.String() + " ")
			}
			if groupAnd && k.op == xAnd && k.parens == 0 {
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

func (n *exprNode) warn(out *[]string) {
	switch n.op {
	case xOr:
		for _, k := range n.kids {
			if k.op == xAnd && k.parens == 0 {
				var sb strings.Builder
				n.writeBare(&sb, true)
				*out = append(*out, "AND and OR mixed without parentheses; read as "+sb.String())
				break
			}
		}
		fallthrough
	case xAnd:
		for _, k := range n.kids {
			k.warn(out)
		}
	case xHas:
		if n.l.ref == nil && !n.l.isLst {
			*out = append(*out, n.text+" is always false: HAS needs an array on the left")
		}
	case xIn, xNotIn:
		if n.r.ref == nil && !n.r.isLst {
			*out = append(*out, n.text+" is always false: "+n.op.String()+" needs an array on the right")
		}
	}
}

func (n *exprNode) eval(env *Env) bool {
	switch n.op {
	case xAnd:
		for _, k := range n.kids {
			if !k.eval(env) {
				return false
			}
		}
		return true
	case xOr:
		for _, k := range n.kids {
			if k.eval(env) {
				return true
			}
		}
		return false
	}
	return exprCompare(n.op, n.l.eval(env), n.r.eval(env))
}

// compare applies a comparison operator. NULL on either side is false for
// every operator, including != and NOT IN.
func exprCompare(op exprOp, l, r exprValue) bool {
	switch op {
	case xEq:
		return l.scalar() && r.scalar() && exprScalarEq(l, r)
	case xNe:
		return l.scalar() && r.scalar() && !exprScalarEq(l, r)
	case xGt, xGe, xLt, xLe:
		var c int
		switch {
		case l.k == jNum && r.k == jNum:
			switch {
			case l.n < r.n:
				c = -1
			case l.n > r.n:
				c = 1
			case l.n == r.n:
				c = 0
			default: // NaN is unordered
				return false
			}
		case l.k == jStr && r.k == jStr:
			c = strings.Compare(l.s, r.s)
		default:
			return false
		}
		switch op {
		case xGt:
			return c > 0
		case xGe:
			return c >= 0
		case xLt:
			return c < 0
		}
		return c <= 0
	case xContains:
		return l.k == jStr && r.k == jStr && strings.Contains(l.s, r.s)
	case xHas:
		return l.k == jArr && r.scalar() && exprArrayHas(l.a, r)
	case xIn:
		return l.scalar() && r.k == jArr && exprArrayHas(r.a, l)
	case xNotIn:
		return l.scalar() && r.k == jArr && !exprArrayHas(r.a, l)
	}
	return false
}

// why appends the explanation of a false node to parts.
func (n *exprNode) why(env *Env, parts *[]string) {
	switch n.op {
	case xAnd:
		for _, k := range n.kids {
			if !k.eval(env) {
				k.why(env, parts)
				return
			}
		}
	case xOr:
		for _, k := range n.kids {
			k.why(env, parts)
		}
	default:
		*parts = append(*parts, n.whyLeaf(env))
	}
}

func (n *exprNode) whyLeaf(env *Env) string {
	var nulls, vals []string
	for _, o := range [...]*exprOperand{&n.l, &n.r} {
		if o.ref == nil {
			continue
		}
		v, reason := o.ref.lookup(env)
		if v == nil {
			nulls = append(nulls, o.ref.text+" is NULL ("+reason+")")
		} else {
			vals = append(vals, o.ref.text+" is "+exprDescribe(v))
		}
	}
	if len(nulls) > 0 {
		return n.text + " is false: " + strings.Join(nulls, ", ")
	}
	if hint := n.hint(env); hint != "" {
		vals = append(vals, hint)
	}
	if len(vals) == 0 {
		return n.text + " is false"
	}
	return n.text + " is false (" + strings.Join(vals, "; ") + ")"
}

// hint says why a comparison of non-NULL values is false when the reason is
// the operand types rather than the values.
func (n *exprNode) hint(env *Env) string {
	l, r := n.l.eval(env), n.r.eval(env)
	op := n.op.String()
	switch n.op {
	case xEq, xNe, xGt, xGe, xLt, xLe, xContains:
		if !l.scalar() || !r.scalar() {
			return op + " does not compare arrays or objects"
		}
		switch n.op {
		case xEq:
			if l.k != r.k {
				return l.k.String() + " never equals " + r.k.String()
			}
		case xContains:
			if l.k != jStr || r.k != jStr {
				return "CONTAINS needs two strings"
			}
		case xGt, xGe, xLt, xLe:
			if l.k != r.k || l.k == jBool {
				return op + " compares two numbers or two strings"
			}
		}
	case xHas:
		if l.k != jArr || !r.scalar() {
			return "HAS needs an array on the left and a scalar on the right"
		}
	case xIn, xNotIn:
		if !l.scalar() || r.k != jArr {
			return op + " needs a scalar on the left and an array on the right"
		}
	}
	return ""
}
