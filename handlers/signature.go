package handlers

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"net/http"
	neturl "net/url"
	"slices"
	"strings"
	"sync"
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
	// signers holds one signer per auth token, primary first. They are
	// built once and are safe for concurrent use.
	signers []*signer
	// base is the public base URL without a trailing slash, or "".
	base           string
	trustForwarded bool
}

// signer computes Twilio request signatures with one auth token. It keeps
// keyed HMAC-SHA1 states in a pool, so that a callback neither rebuilds the
// key schedule nor allocates a hash.
type signer struct {
	macs sync.Pool // of hash.Hash, keyed with the token
}

func newSigner(token string) *signer {
	key := []byte(token)
	return &signer{macs: sync.Pool{New: func() any { return hmac.New(sha1.New, key) }}}
}

// matches reports whether sig is the base64 HMAC-SHA1 of msg, comparing in
// constant time.
func (s *signer) matches(msg []byte, sig string) bool {
	mac := s.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write(msg)
	var sum [sha1.Size]byte
	var enc [28]byte // base64 of 20 bytes
	mac.Sum(sum[:0])
	s.macs.Put(mac)
	base64.StdEncoding.Encode(enc[:], sum[:])
	return subtle.ConstantTimeCompare(enc[:], []byte(sig)) == 1
}

// newVerifier returns a verifier for the given tokens; empty tokens are
// skipped.
func newVerifier(base string, trustForwarded bool, tokens ...string) *verifier {
	v := &verifier{base: strings.TrimRight(base, "/"), trustForwarded: trustForwarded}
	for _, t := range tokens {
		if t == "" {
			continue
		}
		v.signers = append(v.signers, newSigner(t))
	}
	return v
}

// valid reports whether sig signs url and the form with any of the tokens,
// trying the primary token first. Each field counts with its first value;
// the handler refuses repeated fields before it gets here.
//
// It accepts exactly what twilio-go's client.RequestValidator.Validate
// accepts, the library's URL rewriting included: the signature of the URL
// with the scheme's default port added, or of the URL with its port
// removed. It differs only in cost: the signed string is built once, in
// one buffer, rather than by repeated concatenation, and the URL without
// a port, the one Twilio signs for a Workflow URL written without one, is
// tried first, so that a valid callback usually costs one HMAC.
// TestVerifierMatchesTwilioGo holds the two to the same answers.
func (v *verifier) valid(url string, form neturl.Values, sig string) bool {
	if sig == "" {
		return false
	}
	names := make([]string, 0, len(form))
	size := 0
	for k, vs := range form {
		names = append(names, k)
		size += len(k)
		if len(vs) > 0 {
			size += len(vs[0])
		}
	}
	slices.Sort(names)
	without := twilioRemovePort(url)
	// Room for the other URL too: it differs by at most a port.
	buf := make([]byte, 0, len(without)+len(":65535")+size)
	for try := 0; try < 2; try++ {
		u := without
		if try == 1 {
			if u = twilioAddPort(url); u == without {
				break
			}
		}
		buf = append(buf[:0], u...)
		for _, k := range names {
			buf = append(buf, k...)
			if vs := form[k]; len(vs) > 0 {
				buf = append(buf, vs[0]...)
			}
		}
		for _, s := range v.signers {
			if s.matches(buf, sig) {
				return true
			}
		}
	}
	return false
}

// twilioAddPort is twilio-go's addPort: the URL with the scheme's default
// port (443 for https, 80 otherwise) when it has none, re-serialized by
// net/url. It is copied, not reimplemented, so that the URLs signed are
// byte for byte the ones twilio-go's validator signs.
func twilioAddPort(url string) string {
	parsed, err := neturl.Parse(url)
	if err != nil {
		return url
	}
	if parsed.Port() != "" {
		return url
	}
	if parsed.Scheme == "https" {
		return twilioUpdatePort(url, 443)
	}
	return twilioUpdatePort(url, 80)
}

// twilioUpdatePort is twilio-go's updatePort.
func twilioUpdatePort(url string, newPort int) string {
	parsed, err := neturl.Parse(url)
	if err != nil {
		return url
	}
	var newHost string
	if len(parsed.Port()) == 0 {
		newHost = fmt.Sprintf("%s:%d", parsed.Host, newPort)
	} else {
		oldHost := strings.Split(parsed.Host, ":")[0]
		newHost = fmt.Sprintf("%s:%d", oldHost, newPort)
	}
	parsed.Host = newHost
	return parsed.String()
}

// twilioRemovePort is twilio-go's removePort: the URL without its port,
// re-serialized by net/url; a URL without a port is returned as it is.
func twilioRemovePort(url string) string {
	parsed, err := neturl.Parse(url)
	if err != nil {
		return url
	}
	if len(parsed.Port()) == 0 {
		return url
	}
	parsed.Host = strings.Split(parsed.Host, ":")[0]
	return parsed.String()
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
