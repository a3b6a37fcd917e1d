package handlers

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/outcome"
)

// japaneseDocument is a JSON object of exactly n characters whose value is
// Japanese text: 9 bytes a character once percent-encoded.
func japaneseDocument(n int) string {
	const open, close = `{"note":"`, `"}`
	return open + strings.Repeat("日", n-len(open)-len(close)) + close
}

// largestForm is an assignment callback with Task and Worker attributes of
// 4,096 Japanese characters each, the largest TaskRouter documents.
func largestForm(t *testing.T) url.Values {
	t.Helper()
	form := callbackForm(japaneseDocument(4096))
	form.Set("WorkerAttributes", japaneseDocument(4096))
	for _, k := range []string{"TaskAttributes", "WorkerAttributes"} {
		if n := len([]rune(form.Get(k))); n != 4096 {
			t.Fatalf("%s has %d characters, want 4096", k, n)
		}
	}
	return form
}

// eventsServer is a test Server with the events endpoint.
func eventsServer(t *testing.T) *testEnv {
	t.Helper()
	return newTestServer(t, func(o *Options) {
		tr, err := outcome.New(outcome.Options{Capacity: 16, TTL: time.Hour, Registerer: o.Registerer.(*prometheus.Registry)})
		if err != nil {
			t.Fatal(err)
		}
		o.Outcomes = tr
	})
}

// TestLargestDocumentedCallbackAccepted sends the largest callback
// Twilio's limits allow, two 4,096-character Japanese attribute documents
// (73,889 bytes encoded), as an assignment and as an event callback.
func TestLargestDocumentedCallbackAccepted(t *testing.T) {
	env := eventsServer(t)
	form := largestForm(t)
	if n := len(form.Encode()); n < 70000 || n > callback.MaxBodyBytes {
		t.Fatalf("callback of %d bytes", n)
	}
	rec := serve(env.srv.Handler(), signedRequest(testToken, "https://example.com"+AssignmentPath, form))
	if rec.Code != http.StatusOK {
		t.Fatalf("assignment callback of %d bytes: %d %s", len(form.Encode()), rec.Code, rec.Body)
	}
	for _, ev := range []string{"reservation.accepted", "task.created"} {
		form.Set("EventType", ev)
		rec = serve(env.srv.Handler(), signedRequest(testToken, "https://example.com"+EventsPath, form))
		if rec.Code != http.StatusNoContent {
			t.Errorf("%s event of %d bytes: %d %s", ev, len(form.Encode()), rec.Code, rec.Body)
		}
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestUnsignedFormCostBounded shows that a larger body limit costs an
// unsigned request of many fields nothing: the attack body, padded to the
// limit, is refused with 413 after at most a few KiB have been read (the
// first MaxFormFields fields), and no signature is computed for it.
func TestUnsignedFormCostBounded(t *testing.T) {
	env := newTestServer(t, nil)
	body := attackBody()
	cr := &countingReader{r: bytes.NewReader(body)}
	req := httptest.NewRequest(http.MethodPost, "https://example.com"+AssignmentPath, cr)
	req.Header.Set("Content-Type", formContentType)
	rec := serve(env.srv.Handler(), req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "more than 100 fields") {
		t.Fatalf("attack body: %d %s", rec.Code, rec.Body)
	}
	if cr.n > 8<<10 {
		t.Errorf("read %d of the attack body's %d bytes before refusing it, want at most 8 KiB", cr.n, len(body))
	}
	if got := metricValue(t, env.reg, "assignd_signature_failures_total", nil); got != 0 {
		t.Errorf("%v signatures checked for a form refused by its size", got)
	}
	if rec.Header().Get("Connection") != "close" {
		t.Errorf("refusal without Connection: close")
	}
}

// TestEventRefusalsCounted counts refused event callbacks by status code.
func TestEventRefusalsCounted(t *testing.T) {
	env := eventsServer(t)
	target := "https://example.com" + EventsPath
	form := callbackForm(`{}`)
	form.Set("EventType", "reservation.accepted")
	unsigned := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	unsigned.Header.Set("Content-Type", formContentType)
	big := callbackForm(`{}`)
	big.Set("Padding", strings.Repeat("x", callback.MaxBodyBytes))
	for _, req := range []*http.Request{unsigned, signedRequest(testToken, target, big), httptest.NewRequest(http.MethodGet, target, nil)} {
		if rec := serve(env.srv.Handler(), req); rec.Code < 400 || rec.Header().Get("Connection") != "close" {
			t.Errorf("%s %s: %d, Connection %q", req.Method, req.URL, rec.Code, rec.Header().Get("Connection"))
		}
	}
	for code, want := range map[string]float64{"403": 1, "413": 1, "405": 1} {
		if got := metricValue(t, env.reg, "assignd_event_refusals_total", map[string]string{"code": code}); got != want {
			t.Errorf("assignd_event_refusals_total{code=%q} = %v, want %v", code, got, want)
		}
	}
}

// recut re-cuts a signed raw form body as an attacker can without the
// token: old becomes new, with the same concatenation of names and values.
func recut(t *testing.T, body, old, new string) string {
	t.Helper()
	if strings.ReplaceAll(old, "=", "") != strings.ReplaceAll(new, "=", "") || !strings.Contains(body, old) {
		t.Fatalf("%q is not a re-cut of %q in the body", new, old)
	}
	return strings.Replace(body, old, new, 1)
}

// TestRecutCallbackRefused re-cuts a genuine signed callback as the attack
// round did: TaskAge=75 into TaskAge7=5 and TaskPriority=10 into
// TaskPriority1=0, which keep the signature. Each is refused with a 400
// naming the field, while a callback with fields Twilio adds undocumented
// (WorkerName, TimestampMs) is still decided.
func TestRecutCallbackRefused(t *testing.T) {
	env := newTestServer(t, nil)
	target := "https://example.com" + AssignmentPath
	form := callbackForm(`{"tier":"gold"}`)
	form.Set("TaskAge", "75")
	form.Set("WorkerName", "alice")
	form.Set("TimestampMs", "1764371000123")
	genuine := signedRequest(testToken, target, form)
	sig := genuine.Header.Get("X-Twilio-Signature")
	if rec := serve(env.srv.Handler(), genuine); rec.Code != http.StatusOK {
		t.Fatalf("genuine callback: %d %s", rec.Code, rec.Body)
	}
	body := form.Encode()
	for _, c := range []struct{ old, new, field string }{
		{"TaskAge=75", "TaskAge7=5", "TaskAge7"},
		{"TaskPriority=10", "TaskPriority1=0", "TaskPriority1"},
	} {
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(recut(t, body, c.old, c.new)))
		req.Header.Set("Content-Type", formContentType)
		req.Header.Set("X-Twilio-Signature", sig)
		rec := serve(env.srv.Handler(), req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"field":"`+c.field+`"`) {
			t.Errorf("%s re-cut as %s: %d %s, want 400 naming %s", c.old, c.new, rec.Code, rec.Body, c.field)
		}
	}
	if got := metricValue(t, env.reg, "assignd_signature_failures_total", nil); got != 0 {
		t.Errorf("%v signature failures: the re-cut forms should carry a valid signature", got)
	}
}
