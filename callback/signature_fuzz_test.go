package callback

import (
	"net/url"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/assignd/assignd/internal/testkit"
)

// How FuzzSignatureMatchesTwilio signs its form.
const (
	sigAsGiven       = iota // the fuzzer's own string
	sigOfURL                // signed for the URL as it is
	sigOfURLWithPort        // for the URL with the scheme's port written out
	sigOfURLNoPort          // for the URL with its port taken out
	sigMutated              // signed for the URL, then one byte changed
	sigModes
)

// signatureSeeds are URLs and bodies for FuzzSignatureMatchesTwilio:
// explicit ports 80, 443 and others, query strings, empty values,
// non-ASCII, '+' and '%' in values.
var signatureSeeds = []struct{ url, body string }{
	{"https://assignd.example.com/taskrouter/assignment", callbackForm(`{"tier":"gold"}`).Encode()},
	{"https://assignd.example.com:443/taskrouter/assignment", "A=1&B=2"},
	{"http://assignd.example.com:80/taskrouter/assignment?x=1&y=2", "A=&B=+&C=%2B"},
	{"http://10.1.2.3:8080/taskrouter/assignment", "TaskAttributes=%7B%22a%22%3A%22b+c%22%7D&WorkerSid=WK1"},
	{"https://assignd.example.com:8443/routing/taskrouter/assignment?bodySHA256=x", "Name=%C3%A9l%C3%A8ve&Z=%E2%82%AC"},
	{"https://xn--ssignd-bva.example.com/täsk?q=ü", "é=ü&ß=%FF"},
	{"http://[::1]:8080/a", "a=1"},
	{"http://[::1]/a", "a=%41%42%4a%4A"},
	{"https://h/p%20q?r=%2F", "k=v+w&l=x%20y"},
	{"https://h:/p", "b=2&a=1&c="},
	{"http://user:pw@h:81/p#frag", "x=1"},
	{"ftp://h/p", ""},
	{"not a url", "a=b"},
	{"https://H.EXAMPLE.COM/P", "a=1&&b=2"},
}

// FuzzSignatureMatchesTwilio holds the handler's signature check to
// twilio-go's RequestValidator.Validate, the check it replaced: on every
// form the handler's scan accepts, with signatures Twilio's way for the URL
// and its port variants (which twilio-go must accept too) and with random
// or mutated ones, the two must agree, token by token.
func FuzzSignatureMatchesTwilio(f *testing.F) {
	for i, s := range signatureSeeds {
		for mode := range sigModes {
			f.Add(s.url, s.body, uint8(mode), uint8(i), "")
		}
		f.Add(s.url, s.body, uint8(sigAsGiven), uint8(0), "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	}
	v := NewVerifier("", false, testToken, testTokenNext)
	oracles := []client.RequestValidator{client.NewRequestValidator(testToken), client.NewRequestValidator(testTokenNext)}
	f.Fuzz(func(t *testing.T, u, body string, mode, pick uint8, given string) {
		sc := &Form{buf: []byte(u), urlEnd: len(u), body: []byte(body)}
		form, parseErr := url.ParseQuery(body)
		accepted := sc.Scan().Code == 0
		if want := parseErr == nil && overFormLimits(body) == "" && !hasNameless(form) && !repeated(form); accepted != want {
			t.Fatalf("scan accepted %q: %v; url.ParseQuery says %v", body, accepted, want)
		}
		if !accepted {
			return
		}
		params := make(map[string]string, len(form))
		for k, vs := range form {
			params[k] = vs[0]
		}
		token := []string{testToken, testTokenNext}[pick%2]
		sig := given
		switch mode % sigModes {
		case sigOfURL:
			sig = testkit.Sign(token, u, form)
		case sigOfURLWithPort:
			sig = testkit.Sign(token, withDefaultPort(u), form)
		case sigOfURLNoPort:
			sig = testkit.Sign(token, withoutPort(u), form)
		case sigMutated:
			b := []byte(testkit.Sign(token, u, form))
			b[int(pick)%len(b)] ^= 1 + pick%7
			sig = string(b)
		}
		want := oracles[0].Validate(u, params, sig) || oracles[1].Validate(u, params, sig)
		if mode%sigModes == sigOfURL && !want {
			t.Fatalf("twilio-go refuses a signature for the URL itself: %q %q", u, body)
		}
		if got := v.Valid(sc, sig); got != want {
			t.Fatalf("valid(%q, %q, %q) = %v, twilio-go says %v", u, body, sig, got, want)
		}
	})
}

// withDefaultPort writes out the scheme's port in u if it has none.
func withDefaultPort(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Port() != "" {
		return u
	}
	if p.Scheme == "https" {
		p.Host += ":443"
	} else {
		p.Host += ":80"
	}
	return p.String()
}

// withoutPort takes the port out of u.
func withoutPort(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Port() == "" {
		return u
	}
	p.Host = p.Hostname()
	if strings.Contains(p.Host, ":") {
		p.Host = "[" + p.Host + "]"
	}
	return p.String()
}

// hasNameless reports whether form has a field without a name.
func hasNameless(form url.Values) bool {
	_, ok := form[""]
	return ok
}

// repeated reports whether form gives a field more than once.
func repeated(form url.Values) bool {
	for _, vs := range form {
		if len(vs) > 1 {
			return true
		}
	}
	return false
}

// TestSignatureMissingCostsNothing pins that a request without a signature
// is refused before any HMAC is taken from a pool.
func TestSignatureMissingCostsNothing(t *testing.T) {
	v := NewVerifier("", false, testToken)
	v.macs[0].New = func() any { t.Fatal("an HMAC was taken for a missing signature"); return nil }
	sc := &Form{body: []byte("a=1")}
	if sc.Scan().Code != 0 || v.Valid(sc, "") {
		t.Fatal("a missing signature is valid")
	}
}
