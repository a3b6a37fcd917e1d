package expr

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
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

// newSyntaxError builds a SyntaxError at byte offset pos of src.
func newSyntaxError(src string, pos int, format string, args ...any) *SyntaxError {
	if pos > len(src) {
		pos = len(src)
	}
	return &SyntaxError{Src: src, Col: utf8.RuneCountInString(src[:pos]) + 1, Msg: fmt.Sprintf(format, args...)}
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

// MissingError is what Template.Render returns when a placeholder refers to
// a value that is absent or JSON null. Policy decisions do not tell it apart
// from a wrongly typed value: either way the rule is skipped with the reason
// "render" and the next rule is tried. The type exists so that a caller that
// does care, such as a test, can name the missing reference.
type MissingError struct {
	// Ref is the reference in canonical form, e.g. "task.conference_sid".
	Ref string
}

// Error returns e.g. "task.x is missing"; a null value reads the same.
func (e *MissingError) Error() string { return e.Ref + " is missing" }
