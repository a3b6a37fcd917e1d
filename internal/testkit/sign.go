package testkit

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/url"
	"sort"
)

// Sign computes X-Twilio-Signature the way Twilio does: base64 of
// HMAC-SHA1(token, u followed by every form field's name and first value,
// sorted by name). It is deliberately the plain textbook form, apart from
// the server's one-pass check in handlers/signature.go, so that a mistake
// there cannot hide behind the same mistake here; TestSignVectors holds it
// to the signatures Twilio's own library computed.
func Sign(token, u string, form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	mac := hmac.New(sha1.New, []byte(token))
	io.WriteString(mac, u)
	for _, k := range names {
		io.WriteString(mac, k)
		io.WriteString(mac, form.Get(k))
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
