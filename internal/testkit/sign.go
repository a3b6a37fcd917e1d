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
// sorted by name). The server itself checks with twilio-go's
// RequestValidator; an independent signer lets tests catch a server that
// signs and checks with the same mistake.
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
