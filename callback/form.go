package callback

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
)

// Form limits, checked before any field is unescaped or any signature
// computed. TaskRouter sends about a dozen fields with names such as
// "WorkerAttributes"; a form far beyond that is not TaskRouter, and without
// the limits an unsigned body of 10,000 one-letter fields would cost more
// to refuse than a genuine callback costs to answer.
const (
	// MaxFormFields bounds the fields of a callback body, counted as
	// net/url counts query parameters: one more than the '&'s.
	MaxFormFields = 100
	// MaxFieldNameBytes bounds a field name as sent, before unescaping.
	MaxFieldNameBytes = 64
)

// MaxBodyBytes bounds a callback body, sized from Twilio's documented
// limits: Task attributes and Worker attributes may each be 4,096
// characters, and a character of 4-byte UTF-8 is 12 bytes once
// percent-encoded, so the two documents alone may take 2 × 4,096 × 12 =
// 98,304 bytes. Every other field of an assignment or event callback
// together takes under 4 KiB (SIDs of 34 characters, names, the
// reservation's timestamps). 128 KiB leaves a quarter for fields Twilio
// adds. The body is refused as soon as it passes MaxFormFields while it is
// read, so a larger limit costs an unsigned form of many fields nothing.
const MaxBodyBytes = 128 << 10

// maxPooledBytes is the largest buffer returned to the pool; a larger one,
// grown by an unusually long URL, is left to the garbage collector.
const maxPooledBytes = 2 * MaxBodyBytes

// span is a range of Form.buf.
type span struct{ off, end int }

// formField is one field of a scanned form: its name and value, unescaped,
// side by side in Form.buf (the value's span starts where the
// name's ends), so that one write covers both.
type formField struct{ name, value span }

// Form is one callback's working memory, taken from a pool: the raw
// body, then the signed URL and every field unescaped, then the signature
// computed. Nothing in it is allocated per field, so an unsigned body costs
// no more to refuse than a signed one costs to accept.
type Form struct {
	body []byte
	// buf holds the signed URL (buf[:urlEnd]), then name and value of each
	// field in body order, unescaped.
	buf    []byte
	urlEnd int
	// fields are in name order once scan returns without a problem.
	fields []formField
	// sum and enc hold a computed signature: the HMAC-SHA1 and its base64.
	sum [20]byte
	enc [28]byte
}

// FormPool holds *Form values.
type FormPool struct{ p sync.Pool }

func (sp *FormPool) Get() *Form {
	if sc, ok := sp.p.Get().(*Form); ok {
		return sc
	}
	return &Form{body: make([]byte, 0, 4096), buf: make([]byte, 0, 4096), fields: make([]formField, 0, 32)}
}

// Put returns sc to the pool; a Form grown beyond maxPooledBytes is left
// to the garbage collector.
func (sp *FormPool) Put(sc *Form) {
	if cap(sc.body) > maxPooledBytes || cap(sc.buf) > maxPooledBytes {
		return
	}
	sc.body, sc.buf, sc.fields, sc.urlEnd = sc.body[:0], sc.buf[:0], sc.fields[:0], 0
	sp.p.Put(sc)
}

// ErrTooManyFields is ReadBody's error for a body that passed
// MaxFormFields before its end.
var ErrTooManyFields = errors.New(tooManyFields.Msg)

// TooManyFields is the refusal of a body that ReadBody stopped with
// ErrTooManyFields, the one Scan gives.
func TooManyFields() Problem { return tooManyFields }

// ReadBody reads r, which the caller has limited, into sc.body. The buffer
// grows with what arrives, never with what the sender announces, so a
// connection that announces a large body and sends none of it costs the
// pooled buffer only. It stops with ErrTooManyFields as soon as the body
// passes MaxFormFields, before the rest is read.
func (sc *Form) ReadBody(r io.Reader) error {
	b := sc.body[:0]
	seps := 0
	for {
		if len(b) == cap(b) {
			b = slices.Grow(b, max(4096, cap(b)))
		}
		n, err := r.Read(b[len(b):cap(b)])
		seps += bytes.Count(b[len(b):len(b)+n], []byte{'&'})
		b = b[:len(b)+n]
		if seps+1 > MaxFormFields {
			sc.body = b
			return ErrTooManyFields
		}
		if errors.Is(err, io.EOF) {
			sc.body = b
			return nil
		}
		if err != nil {
			sc.body = b
			return err
		}
	}
}

// ParseForm parses a callback body as the callback handler does, so that
// a tool replaying a captured body (explain) accepts what serve accepts: a
// body over MaxBodyBytes, a form beyond MaxFormFields or
// MaxFieldNameBytes, a malformed form, a field without a name and a
// repeated field are refused with the messages serve answers; a repeated
// field as a *FieldError. The result holds one value per field, for
// Parse.
func ParseForm(body []byte) (url.Values, error) {
	if len(body) > MaxBodyBytes {
		return nil, errors.New(TooLarge())
	}
	sc := &Form{body: body}
	if p := sc.Scan(); p.Code != 0 {
		if p.Field != "" {
			return nil, &FieldError{Field: p.Field, Problem: p.Msg}
		}
		return nil, errors.New(p.Msg)
	}
	form := make(url.Values, len(sc.fields))
	for k, v := range sc.Fields() {
		form[k] = []string{v}
	}
	return form, nil
}

// TooLarge is the refusal of a body over MaxBodyBytes.
func TooLarge() string { return "body is larger than " + strconv.Itoa(MaxBodyBytes) + " bytes" }

// Problem is why a form was refused before its signature was checked;
// the zero value is no problem.
type Problem struct {
	// Code is the HTTP status the callback listener answers; 0 is no
	// problem.
	Code int
	// Msg is the refusal, and Field the field it is about, if any.
	Msg, Field string
}

// Problems with the same wording as url.ParseQuery's, which the handler
// used before, so that answers do not change.
var (
	tooManyFields = Problem{http.StatusRequestEntityTooLarge, "body is not a valid form: more than " + strconv.Itoa(MaxFormFields) + " fields", ""}
	nameTooLong   = Problem{http.StatusRequestEntityTooLarge, "body is not a valid form: a field name is longer than " + strconv.Itoa(MaxFieldNameBytes) + " bytes", ""}
	semicolon     = Problem{http.StatusBadRequest, "body is not a valid form: invalid semicolon separator in query", ""}
	nameless      = Problem{http.StatusBadRequest, "body is not a valid form: a field has no name", ""}
)

// scan reads sc.body as a form into sc.buf and sc.fields, after the signed
// URL the caller wrote to sc.buf[:sc.urlEnd] (none when signatures are not
// checked). It refuses what
// url.ParseQuery refused, with its messages, and what the handler refused
// after it (nameless and repeated fields), in that order; but first the
// limits, before anything is unescaped.
func (sc *Form) Scan() Problem {
	body := sc.body
	if bytes.Count(body, []byte{'&'})+1 > MaxFormFields {
		return tooManyFields
	}
	// The first pass checks without writing: limits, then syntax.
	var badEscape []byte
	hasSemicolon, hasNameless := false, false
	for rest := body; len(rest) > 0; {
		var seg []byte
		seg, rest, _ = bytes.Cut(rest, []byte{'&'})
		name, value, _ := bytes.Cut(seg, []byte{'='})
		if len(name) > MaxFieldNameBytes {
			return nameTooLong
		}
		if bytes.IndexByte(seg, ';') >= 0 {
			hasSemicolon = true
			continue
		}
		if len(seg) == 0 {
			continue
		}
		if badEscape == nil {
			if badEscape = invalidEscape(name); badEscape == nil {
				badEscape = invalidEscape(value)
			}
		}
		hasNameless = hasNameless || len(name) == 0
	}
	switch {
	case hasSemicolon: // ParseQuery reports it over any bad escape
		return semicolon
	case badEscape != nil:
		return Problem{http.StatusBadRequest, "body is not a valid form: " + url.EscapeError(badEscape).Error(), ""}
	case hasNameless:
		return nameless
	}
	// The second pass writes every field, unescaped, after the URL. The
	// unescaped form is never longer than the body, so buf grows at most
	// once.
	buf := slices.Grow(sc.buf[:sc.urlEnd], len(body))
	fields := sc.fields[:0]
	for rest := body; len(rest) > 0; {
		var seg []byte
		seg, rest, _ = bytes.Cut(rest, []byte{'&'})
		if len(seg) == 0 {
			continue
		}
		name, value, _ := bytes.Cut(seg, []byte{'='})
		var f formField
		f.name.off = len(buf)
		buf = appendUnescaped(buf, name)
		f.name.end, f.value.off = len(buf), len(buf)
		buf = appendUnescaped(buf, value)
		f.value.end = len(buf)
		fields = append(fields, f)
	}
	sc.buf, sc.fields = buf, fields
	slices.SortFunc(fields, func(a, b formField) int {
		return bytes.Compare(buf[a.name.off:a.name.end], buf[b.name.off:b.name.end])
	})
	for i := 1; i < len(fields); i++ {
		if name := sc.name(i); bytes.Equal(name, sc.name(i-1)) {
			// The first repeated name in name order, as before.
			return Problem{http.StatusBadRequest, "field is given more than once", string(name)}
		}
	}
	return Problem{}
}

// name is the unescaped name of field i.
func (sc *Form) name(i int) []byte {
	f := sc.fields[i]
	return sc.buf[f.name.off:f.name.end]
}

// signedURL is the URL scan was given.
func (sc *Form) SignedURL() []byte { return sc.buf[:sc.urlEnd] }

// fieldMap returns the fields as a map of strings that outlive sc. All of
// them share one string, so this costs one copy of the form and the map.
func (sc *Form) Fields() map[string]string {
	s := string(sc.buf[sc.urlEnd:])
	m := make(map[string]string, len(sc.fields))
	for _, f := range sc.fields {
		m[s[f.name.off-sc.urlEnd:f.name.end-sc.urlEnd]] = s[f.value.off-sc.urlEnd : f.value.end-sc.urlEnd]
	}
	return m
}

// get returns the value of the field named name, unescaped, if there is one.
func (sc *Form) Get(name string) []byte {
	for _, f := range sc.fields {
		if string(sc.buf[f.name.off:f.name.end]) == name {
			return sc.buf[f.value.off:f.value.end]
		}
	}
	return nil
}

// invalidEscape returns the first malformed %-escape in s, as much of it
// as url.QueryUnescape quotes in its error, or nil.
func invalidEscape(s []byte) []byte {
	for i := bytes.IndexByte(s, '%'); i >= 0; {
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return s[i:min(i+3, len(s))]
		}
		j := bytes.IndexByte(s[i+3:], '%')
		if j < 0 {
			return nil
		}
		i += 3 + j
	}
	return nil
}

// appendUnescaped appends s, a form name or value that invalidEscape
// passed, to dst, unescaped as url.QueryUnescape would.
func appendUnescaped(dst, s []byte) []byte {
	if bytes.IndexByte(s, '%') < 0 && bytes.IndexByte(s, '+') < 0 {
		return append(dst, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			dst = append(dst, ' ')
		case '%':
			dst = append(dst, unHex(s[i+1])<<4|unHex(s[i+2]))
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unHex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// TruncateBytes is Truncate for bytes, copying at most n of them.
func TruncateBytes(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "..."
}
