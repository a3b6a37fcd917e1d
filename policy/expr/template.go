package expr

import (
	"encoding/json"
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
	// escape says how a placeholder in a URL is escaped, so that its value
	// can neither leave its path segment nor add query parameters.
	escape urlPart
}

// urlPart is where in a URL a placeholder stands.
type urlPart uint8

const (
	notURL    urlPart = iota
	urlPath           // path-escaped: a value is one segment
	urlQuery          // query-escaped, after "?" (or "#")
	urlOrigin         // scheme, user info, host or port: not allowed
)

// urlPartAt says where a placeholder after the literal text lit stands:
// in the origin until "://" and the first "/", "?" or "#" after it.
func urlPartAt(lit string) urlPart {
	i := strings.Index(lit, "://")
	if i < 0 {
		return urlOrigin
	}
	rest := lit[i+3:]
	j := strings.IndexAny(rest, "/?#")
	switch {
	case j < 0:
		return urlOrigin
	case strings.ContainsAny(rest[j:], "?#"):
		return urlQuery
	}
	return urlPath
}

// CompileTemplate parses src. Placeholders are {{ ref }}, where ref is a
// reference such as task.x, worker.contact_uri, callback.TaskSid,
// now.hour or a bare task key, with optional spaces inside the braces.
// When isURL is true, a placeholder must stand in the path or the query of
// the literal URL around it, never in its scheme, host or port, so that no
// value can send the request to another host; when rendered, a value in
// the path is escaped as one path segment and a value after the first "?"
// is query-escaped. An unterminated "{{", an empty placeholder, a
// reference that does not parse and a placeholder in a URL's origin are
// errors naming the placeholder.
func CompileTemplate(src string, isURL bool) (*Template, error) {
	return compileTemplate(src, isURL, nil)
}

// compileTemplate is CompileTemplate in a scope.
func compileTemplate(src string, isURL bool, sc *Scope) (*Template, error) {
	t := &Template{src: src}
	var lits strings.Builder // the literal text so far, to place URL placeholders
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
			lits.WriteString(lit)
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
		ref, err := parseRefIn(inner, sc)
		if err == nil {
			err = checkTemplateRef(ref)
		}
		if err != nil {
			msg := err.Error()
			var se *SyntaxError
			if errors.As(err, &se) {
				msg = se.Msg
			}
			return nil, fmt.Errorf("placeholder %d %q: %s", n, shorten(ph), msg)
		}
		part := tmplPart{ref: ref}
		if isURL {
			if part.escape = urlPartAt(lits.String()); part.escape == urlOrigin {
				return nil, fmt.Errorf("placeholder %d %q: not allowed in the scheme, host or port of a URL, where a value could send the request elsewhere; write the origin literally (https://host/) and use placeholders in the path or query", n, shorten(ph))
			}
		}
		t.parts = append(t.parts, part)
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
// string, float64 (or json.Number, when the attributes were decoded with
// UseNumber), bool, map[string]any or []any. Otherwise the result is a
// string, with strings inserted as they are (escaped in a URL, see
// CompileTemplate), numbers in plain decimal (42, not 4.2e+01; 100 for a
// json.Number 1e2, and an integer json.Number exactly as sent) and booleans as true or false; inserting an
// object or array is an error. A reference that is absent or null returns a *MissingError.
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
	var inPath []placed // where path placeholders' values went
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
			if num, isNumber := v.(json.Number); isNumber {
				s = plainDecimal(num.String())
			}
		case jBool:
			s = strconv.FormatBool(x.b)
		default:
			return nil, fmt.Errorf("%s is %s; only a string, number or boolean can be inserted into text", p.ref.text, x.k)
		}
		switch p.escape {
		case urlPath:
			s = url.PathEscape(s)
			inPath = append(inPath, placed{sb.Len(), sb.Len() + len(s), p.ref.text})
		case urlQuery:
			s = url.QueryEscape(s)
		}
		sb.WriteString(s)
	}
	out := sb.String()
	if err := checkDotSegments(out, inPath); err != nil {
		return nil, err
	}
	return out, nil
}

// placed is where one placeholder's value stands in a rendered URL.
type placed struct {
	start, end int
	ref        string
}

// checkDotSegments refuses a rendered URL in which a path segment that a
// placeholder helped write is "." or "..": path escaping keeps a value in
// its segment, but does not escape dots, and a client or server that
// resolves dot segments would then request another path (/agent/{{x}}
// with x ".." is /). Segments written wholly by the policy are its own.
func checkDotSegments(u string, spans []placed) error {
	for _, ph := range spans {
		start := strings.LastIndexByte(u[:ph.start], '/') + 1
		end := len(u)
		if i := strings.IndexAny(u[ph.end:], "/?#"); i >= 0 {
			end = ph.end + i
		}
		if seg := u[start:end]; seg == "." || seg == ".." {
			return fmt.Errorf("%s makes the URL path segment %q, which would climb out of the path the policy wrote", ph.ref, seg)
		}
	}
	return nil
}
