package expr

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokOp // == = != > >= < <= && ||
	tokDot
	tokLBrack
	tokRBrack
	tokLParen
	tokRParen
	tokComma
)

type token struct {
	kind     tokKind
	pos, end int    // byte offsets into the source
	text     string // the raw source text
	str      string // the decoded value of a string
	num      float64
}

// describe names a token for error messages.
func (t *token) describe() string {
	if t.kind == tokEOF {
		return "the end"
	}
	return quoteSrc(t.text)
}

func isIdentStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// punctuation lists the tokens made of symbols. Two-character tokens come
// first, so that ">=" is never read as ">" followed by "=". It is read-only.
var punctuation = [...]struct {
	text string
	kind tokKind
}{
	{"==", tokOp}, {"!=", tokOp}, {">=", tokOp}, {"<=", tokOp}, {"&&", tokOp}, {"||", tokOp},
	{"=", tokOp}, {">", tokOp}, {"<", tokOp},
	{".", tokDot}, {"[", tokLBrack}, {"]", tokRBrack}, {"(", tokLParen}, {")", tokRParen}, {",", tokComma},
}

// strays are characters that start no token but that people write when
// they expect another language's syntax; each gets a message that says
// what to write instead. It is read-only.
var strays = [...]struct {
	c   byte
	msg string
}{
	{'!', `unexpected "!"; there is no NOT operator (use != or NOT IN)`},
	{'&', `unexpected "&"; use AND or &&`},
	{'|', `unexpected "|"; use OR or ||`},
	{'-', `unexpected "-"; hyphens are not supported in expressions`},
}

// lexer is the state of one call to lex: the source and the offset of the
// next byte to read.
type lexer struct {
	src string
	pos int
}

// lex splits src into tokens, ending with an EOF token.
func lex(src string) ([]token, error) {
	l := lexer{src: src}
	var toks []token
	for {
		l.pos = span(src, l.pos, isSpace)
		if l.pos >= len(src) {
			return append(toks, token{kind: tokEOF, pos: len(src), end: len(src)}), nil
		}
		start := l.pos
		tok, err := l.scan()
		if err != nil {
			return nil, err
		}
		tok.pos, tok.end, tok.text = start, l.pos, src[start:l.pos]
		toks = append(toks, tok)
	}
}

// scan reads the token at l.pos and advances past it. It sets the kind and
// the decoded value; lex fills in the position and text.
func (l *lexer) scan() (token, error) {
	c := l.src[l.pos]
	switch {
	case isIdentStart(c):
		l.pos = span(l.src, l.pos, isIdentChar)
		return token{kind: tokIdent}, nil
	case isDigit(c) || (c == '-' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1])):
		return l.scanNumber()
	case c == '"' || c == '\'':
		return l.scanString(c)
	}
	return l.scanPunctuation()
}

// scanNumber reads an optionally negative decimal with an optional
// fraction. A number that runs into letters or a second dot is an error
// rather than two tokens, so that 1e5 and 1.2.3 are not silently misread.
func (l *lexer) scanNumber() (token, error) {
	src, start := l.src, l.pos
	i := span(src, start+1, isDigit)
	if i < len(src) && src[i] == '.' {
		i++
		if i >= len(src) || !isDigit(src[i]) {
			return token{}, newSyntaxError(src, i, "expected a digit after %q in a number", src[start:i])
		}
		i = span(src, i, isDigit)
	}
	if i < len(src) && isNumberTail(src[i]) {
		return token{}, newSyntaxError(src, start, "invalid number %q", src[start:span(src, i, isNumberTail)])
	}
	n, err := strconv.ParseFloat(src[start:i], 64)
	if err != nil {
		return token{}, newSyntaxError(src, start, "number %q is out of range", src[start:i])
	}
	l.pos = i
	return token{kind: tokNumber, num: n}, nil
}

// scanString reads a string quoted with q. A backslash escapes either quote
// or a backslash; any other escape is an error, because TaskRouter documents
// none and guessing would change what a condition means.
func (l *lexer) scanString(q byte) (token, error) {
	src, start := l.src, l.pos
	var sb strings.Builder
	for i := start + 1; i < len(src); {
		switch d := src[i]; {
		case d == q:
			l.pos = i + 1
			return token{kind: tokString, str: sb.String()}, nil
		case d == '\\' && i+1 < len(src):
			e := src[i+1]
			if e != '"' && e != '\'' && e != '\\' {
				_, size := utf8.DecodeRuneInString(src[i+1:])
				return token{}, newSyntaxError(src, i, "unknown escape %q in a string; only \\\", \\' and \\\\ are allowed", src[i:i+1+size])
			}
			sb.WriteByte(e)
			i += 2
		default:
			sb.WriteByte(d)
			i++
		}
	}
	return token{}, newSyntaxError(src, start, "unterminated string")
}

// scanPunctuation reads an operator or delimiter from the punctuation table,
// or explains why the character at l.pos starts no token.
func (l *lexer) scanPunctuation() (token, error) {
	rest := l.src[l.pos:]
	for _, p := range punctuation {
		if strings.HasPrefix(rest, p.text) {
			l.pos += len(p.text)
			return token{kind: p.kind}, nil
		}
	}
	for _, s := range strays {
		if rest[0] == s.c {
			return token{}, newSyntaxError(l.src, l.pos, "%s", s.msg)
		}
	}
	r, size := utf8.DecodeRuneInString(rest)
	if r == utf8.RuneError && size <= 1 {
		return token{}, newSyntaxError(l.src, l.pos, "invalid UTF-8")
	}
	return token{}, newSyntaxError(l.src, l.pos, "unexpected character %q", r)
}

// span returns the offset of the first byte at or after i in s for which ok
// is false, or len(s).
func span(s string, i int, ok func(byte) bool) int {
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isNumberTail reports whether c, right after a number, would make it part
// of something that is not a number.
func isNumberTail(c byte) bool { return isIdentChar(c) || c == '.' }
