package callback

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"net/http"
	neturl "net/url"
	"strings"
	"sync"
)

// SignatureHeader carries Twilio's signature of a webhook request.
const SignatureHeader = "X-Twilio-Signature"

// Verifier checks X-Twilio-Signature against the URL TaskRouter signed.
//
// The signed URL is the one configured on the Workflow, which is rarely the
// one this process sees: an ingress terminates TLS, changes the host and may
// strip a path prefix. signedURL rebuilds it, in this order of preference:
// the configured public base URL, the X-Forwarded-* headers when trusted,
// and the request's own scheme and host.
//
// The check is Twilio's (twilio-go's RequestValidator.Validate, which the
// differential fuzz target FuzzSignatureMatchesTwilio holds it to), done in
// one pass over a form already scanned and sorted, with pooled HMACs.
type Verifier struct {
	// macs holds one pool of HMAC-SHA1s per auth token, primary first:
	// hmac.New is paid once per pooled HMAC, Reset on every use.
	macs []*sync.Pool
	// base is the public base URL without a trailing slash, or "".
	base           string
	trustForwarded bool
}

// NewVerifier returns a Verifier for the given tokens; empty tokens are
// skipped.
func NewVerifier(base string, trustForwarded bool, tokens ...string) *Verifier {
	v := &Verifier{base: strings.TrimRight(base, "/"), trustForwarded: trustForwarded}
	for _, t := range tokens {
		if t == "" {
			continue
		}
		key := []byte(t)
		v.macs = append(v.macs, &sync.Pool{New: func() any { return hmac.New(sha1.New, key) }})
	}
	return v
}

// SignURL writes the URL TaskRouter signed for r into f, where Scan puts
// it ahead of the fields: call it before Scan.
func (v *Verifier) SignURL(f *Form, r *http.Request) {
	f.buf = v.appendSignedURL(f.buf[:0], r)
	f.urlEnd = len(f.buf)
}

// Valid reports whether sig signs the form scanned into sc, after the URL
// it was scanned with, with any of the tokens, as twilio-go's Validate
// would: the URL as it is, then (only if that fails) the URL with its port
// added or removed, each with the primary token first. A missing signature
// fails before any HMAC is computed.
func (v *Verifier) Valid(sc *Form, sig string) bool {
	if sig == "" {
		return false
	}
	for _, p := range v.macs {
		if sc.signs(p, sc.SignedURL(), sig) {
			return true
		}
	}
	alt := portVariant(string(sc.SignedURL()))
	if alt == string(sc.SignedURL()) {
		return false
	}
	for _, p := range v.macs {
		if sc.signs(p, []byte(alt), sig) {
			return true
		}
	}
	return false
}

// signs reports whether sig is the signature, with an HMAC from pool, of
// u followed by each field's name and value in name order. It compares the
// base64 encodings in constant time, as twilio-go does, so that exactly the
// signatures it accepts are accepted.
func (sc *Form) signs(pool *sync.Pool, u []byte, sig string) bool {
	h := pool.Get().(hash.Hash)
	h.Reset()
	h.Write(u)
	for _, f := range sc.fields {
		h.Write(sc.buf[f.name.off:f.value.end])
	}
	h.Sum(sc.sum[:0])
	pool.Put(h)
	base64.StdEncoding.Encode(sc.enc[:], sc.sum[:])
	return len(sig) == len(sc.enc) && subtle.ConstantTimeCompare(sc.enc[:], []byte(sig)) == 1
}

// portVariant is the other URL twilio-go's Validate tries besides u: with
// the scheme's default port added if u has no port, without its port if it
// has one. It follows twilio-go's addPort and removePort to the letter,
// re-encoding through net/url included; Twilio's own signing is
// inconsistent about the port, which is why both are tried.
func portVariant(u string) string {
	parsed, err := neturl.Parse(u)
	if err != nil {
		return u
	}
	hostOnly := strings.Split(parsed.Host, ":")[0]
	switch {
	case parsed.Port() != "":
		parsed.Host = hostOnly
	case parsed.Scheme == "https":
		parsed.Host += ":443"
	default:
		parsed.Host += ":80"
	}
	return parsed.String()
}

// appendSignedURL appends the URL TaskRouter signed for r to dst, building
// nothing on the way: a base (scheme, host, optional port and path prefix)
// followed by the request's path below the service root and its raw query.
func (v *Verifier) appendSignedURL(dst []byte, r *http.Request) []byte {
	if v.base != "" {
		return append(append(dst, v.base...), requestURI(r)...)
	}
	scheme, host, prefix := "http", r.Host, ""
	if r.TLS != nil {
		scheme = "https"
	}
	if v.trustForwarded {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p != "" {
			// No copy when it is lower case already, as it usually is.
			scheme = strings.ToLower(p)
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
		if p := strings.Trim(firstValue(r.Header.Get("X-Forwarded-Prefix")), "/"); p != "" {
			prefix = p
		}
	}
	dst = append(append(append(dst, scheme...), "://"...), host...)
	if prefix != "" {
		dst = append(append(dst, '/'), prefix...)
	}
	return append(dst, requestURI(r)...)
}

// requestURI is the request target exactly as received, path and raw query,
// so that no decoding or re-encoding can change what is checked.
func requestURI(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	// Absolute-form targets ("POST http://host/path HTTP/1.1") and requests
	// built in tests without RequestURI.
	return r.URL.RequestURI()
}

// firstValue is the first element of a comma-separated header value: the one
// the outermost proxy, the one TaskRouter reached, wrote.
func firstValue(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
