package expr

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Template is a parameter value that may contain {{ ref }} placeholders,
// such as "https://example.com/ivr?lang={{task.language}}". It is immutable
// and safe for concurrent use. There is no escape for a literal "{{".
type Template struct {
	src   string
	parts []tmplPart
	// whole is set when the source is exactly one placeholder, so that
	// Render passes the value through with its JSON type.
	whole bool
}

// tmplPart is literal text (ref == nil) or a placeholder.
type tmplPart struct {
	lit string
	ref *Ref
	// escape is set for a placeholder in the query of a URL, whose value
	// must not be able to add parameters or end the query.
	escape bool
}

// CompileTemplate parses src. Placeholders are {{ ref }}, where ref is a
// reference such as task.x, worker.contact_uri, callback.TaskSid or
// now.hour, with optional spaces inside the braces. When isURL is true,
// placeholders after the first "?" of the literal text are query-escaped
// when rendered. An unterminated "{{", an empty placeholder and a reference
// that does not parse are errors naming the placeholder.
func CompileTemplate(src string, isURL bool) (*Template, error) {
	t := &Template{src: src}
	inQuery := false
	rest := src
	for n := 1; ; n++ {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, tmplPart{lit: rest})
			}
			break
		}
		if lit := rest[:i]; lit != "" {
			t.parts = append(t.parts, tmplPart{lit: lit})
			if isURL && strings.Contains(lit, "?") {
				inQuery = true
			}
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return nil, fmt.Errorf(`placeholder %d %q: missing "}}"`, n, shorten(rest[i:]))
		}
		ph := rest[i : i+2+j+2]
		inner := strings.TrimSpace(rest[i+2 : i+2+j])
		if inner == "" {
			return nil, fmt.Errorf("placeholder %d %q: empty placeholder; write a reference such as {{task.key}}", n, ph)
		}
		ref, err := ParseRef(inner)
		if err != nil {
			msg := err.Error()
			var se *SyntaxError
			if errors.As(err, &se) {
				msg = se.Msg
			}
			return nil, fmt.Errorf("placeholder %d %q: %s", n, shorten(ph), msg)
		}
		t.parts = append(t.parts, tmplPart{ref: ref, escape: inQuery})
		rest = rest[i+2+j+2:]
	}
	t.whole = len(t.parts) == 1 && t.parts[0].ref != nil
	return t, nil
}

// shorten keeps error messages readable when a template is long.
func shorten(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// IsLiteral reports whether the template has no placeholders, so that its
// value can be checked once at load time.
func (t *Template) IsLiteral() bool {
	for _, p := range t.parts {
		if p.ref != nil {
			return false
		}
	}
	return true
}

// Source returns the text the template was compiled from.
func (t *Template) Source() string { return t.src }

// Render fills the placeholders from env. A template that is exactly one
// placeholder returns the referenced value with its JSON type unchanged:
// string, float64, bool, map[string]any or []any. Otherwise the result is a
// string, with strings inserted as they are, numbers in plain decimal (42,
// not 4.2e+01) and booleans as true or false; inserting an object or array is
// an error. A reference that is absent or null returns a *MissingError.
func (t *Template) Render(env *Env) (any, error) {
	if t.whole {
		ref := t.parts[0].ref
		v, _ := ref.lookup(env)
		if v == nil {
			return nil, &MissingError{Ref: ref.text}
		}
		return v, nil
	}
	if t.IsLiteral() {
		return t.src, nil
	}
	var sb strings.Builder
	for _, p := range t.parts {
		if p.ref == nil {
			sb.WriteString(p.lit)
			continue
		}
		v, _ := p.ref.lookup(env)
		if v == nil {
			return nil, &MissingError{Ref: p.ref.text}
		}
		var s string
		switch x := valueOf(v); x.k {
		case jStr:
			s = x.s
		case jNum:
			s = formatJSONNumber(x.n)
		case jBool:
			s = strconv.FormatBool(x.b)
		default:
			return nil, fmt.Errorf("%s is %s; only a string, number or boolean can be inserted into text", p.ref.text, x.k)
		}
		if p.escape {
			s = url.QueryEscape(s)
		}
		sb.WriteString(s)
	}
	return sb.String(), nil
}
