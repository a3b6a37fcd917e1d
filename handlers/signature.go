package handlers

import (
	"net/http"
	neturl "net/url"
	"strings"

	"github.com/twilio/twilio-go/client"
)

// SignatureHeader carries Twilio's signature of a webhook request.
const SignatureHeader = "X-Twilio-Signature"

// verifier checks X-Twilio-Signature against the URL TaskRouter signed.
//
// The signed URL is the one configured on the Workflow, which is rarely the
// one this process sees: an ingress terminates TLS, changes the host and may
// strip a path prefix. signedURL rebuilds it, in this order of preference:
// the configured public base URL, the X-Forwarded-* headers when trusted,
// and the request's own scheme and host.
type verifier struct {
	// validators holds one validator per auth token, primary first. They are
	// built once: Validate has a pointer receiver and keeps no state, so they
	// are safe for concurrent use.
	validators []*client.RequestValidator
	// base is the public base URL without a trailing slash, or "".
	base           string
	trustForwarded bool
}

// newVerifier returns a verifier for the given tokens; empty tokens are
// skipped.
func newVerifier(base string, trustForwarded bool, tokens ...string) *verifier {
	v := &verifier{base: strings.TrimRight(base, "/"), trustForwarded: trustForwarded}
	for _, t := range tokens {
		if t == "" {
			continue
		}
		rv := client.NewRequestValidator(t)
		v.validators = append(v.validators, &rv)
	}
	return v
}

// valid reports whether sig signs url and the form with any of the tokens,
// trying the primary token first. The signature is twilio-go's to check, as
// the project requires; the handler has already refused repeated fields, so
// one value per key is the whole form.
func (v *verifier) valid(url string, form neturl.Values, sig string) bool {
	if sig == "" {
		return false
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		params[k] = vs[0]
	}
	for _, rv := range v.validators {
		if rv.Validate(url, params, sig) {
			return true
		}
	}
	return false
}

// signedURL is the URL TaskRouter signed for r: a base (scheme, host,
// optional port and path prefix) followed by the request's path below the
// service root and its raw query.
func (v *verifier) signedURL(r *http.Request) string {
	return v.baseFor(r) + requestURI(r)
}

func (v *verifier) baseFor(r *http.Request) string {
	if v.base != "" {
		return v.base
	}
	scheme, host, prefix := "http", r.Host, ""
	if r.TLS != nil {
		scheme = "https"
	}
	if v.trustForwarded {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p != "" {
			scheme = strings.ToLower(p)
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
		if p := firstValue(r.Header.Get("X-Forwarded-Prefix")); p != "" {
			prefix = "/" + strings.Trim(p, "/")
			if prefix == "/" {
				prefix = ""
			}
		}
	}
	return scheme + "://" + host + prefix
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
