package handlers

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/internal/httpserver"
	"github.com/assignd/assignd/internal/testkit"
)

// The hostile-input tests run a real loopback listener built by
// httpserver.New, with the
// production settings except for these shorter timeouts, so that the
// timeout cases take a second rather than ten. The write timeout is well
// above the read timeout so that a 408 for a stalled body can still be
// written; with the production values (both 10 s) the write deadline falls
// microseconds after the read deadline, and such a client usually sees the
// connection closed instead.
const (
	hostileReadHeaderTimeout = 500 * time.Millisecond
	hostileReadTimeout       = time.Second
	hostileWriteTimeout      = 3 * time.Second
	hostileIdleTimeout       = 2 * time.Second
)

// hostileBase is the public base URL the hostile servers check signatures
// against.
const hostileBase = "https://assignd.example.com"

// goroutineSlack is how many goroutines above its baseline a hostile server
// may keep once a case is over: the runtime and the race detector start a
// few of their own now and then.
const goroutineSlack = 3

// hostileServer is a Server in signed mode behind a real loopback listener.
type hostileServer struct {
	*testEnv
	logs     *observer.ObservedLogs
	addr     string // host:port of the listener
	target   string // the callback URL on the listener
	client   *http.Client
	baseline int // goroutines with the server up and no connection open
}

// startHostile starts a hostile server, answered by testPolicy with
// signatures checked against hostileBase, and stops it when t ends.
func startHostile(t *testing.T) *hostileServer {
	t.Helper()
	return startHostileWith(t, httpserver.Timeouts{
		ReadHeader: hostileReadHeaderTimeout,
		Read:       hostileReadTimeout,
		Write:      hostileWriteTimeout,
		Idle:       hostileIdleTimeout,
	})
}

// startHostileWith is startHostile with the listener's timeouts given.
func startHostileWith(t *testing.T, to httpserver.Timeouts) *hostileServer {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	log := zap.New(core)
	env := newTestServer(t, func(o *Options) {
		o.Logger = log
		o.Config = &config.Config{AuthToken: testToken, PublicBaseURL: hostileBase}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	hs := httpserver.New(ln.Addr().String(), env.srv.Handler(), log.Named("http"), to)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	tr := &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}
	h := &hostileServer{
		testEnv:  env,
		logs:     logs,
		addr:     ln.Addr().String(),
		target:   "http://" + ln.Addr().String() + AssignmentPath,
		client:   &http.Client{Transport: tr, Timeout: 10 * time.Second},
		baseline: before + 1, // the Serve goroutine
	}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		hs.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return h
}

// request is a POST of body to the callback URL with the given content type
// ("" for none) and X-Twilio-Signature sig ("" for none).
func (h *hostileServer) request(t *testing.T, contentType string, body io.Reader, sig string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.target, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if sig != "" {
		req.Header.Set(callback.SignatureHeader, sig)
	}
	return req
}

// signedBody is a form POST of the raw body, validly signed for the form
// the server will read from it: the first value of each field, as the
// server and twilio-go take it.
func (h *hostileServer) signedBody(t *testing.T, body string) *http.Request {
	t.Helper()
	form, err := url.ParseQuery(body)
	if err != nil {
		t.Fatalf("the test's own body is not a form: %v", err)
	}
	return h.request(t, formContentType, strings.NewReader(body), testkit.Sign(testToken, hostileBase+AssignmentPath, form))
}

// signedForm is a validly signed form POST of form.
func (h *hostileServer) signedForm(t *testing.T, form url.Values) *http.Request {
	t.Helper()
	return h.signedBody(t, form.Encode())
}

// answer is what the server sent back.
type answer struct {
	code        int
	contentType string
	body        string
	took        time.Duration
}

// do sends req and reads the whole answer; a transport error fails the test.
func (h *hostileServer) do(t *testing.T, req *http.Request) answer {
	t.Helper()
	a, err := h.send(req)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// send sends req and reads the whole answer.
func (h *hostileServer) send(req *http.Request) (answer, error) {
	start := time.Now()
	resp, err := h.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, fmt.Errorf("reading the answer: %w", err)
	}
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), string(b), time.Since(start)}, nil
}

// expect checks an answer's status and exact JSON body.
func (a answer) expect(t *testing.T, code int, body string) {
	t.Helper()
	if a.code != code || a.body != body || a.contentType != "application/json" {
		t.Errorf("got %d %q %s\nwant %d application/json %s", a.code, a.contentType, a.body, code, body)
	}
}

// expectField checks a 400 whose error names field and starts with prefix.
func (a answer) expectField(t *testing.T, field, prefix string) {
	t.Helper()
	var e httpserver.ErrorBody
	if err := json.Unmarshal([]byte(a.body), &e); err != nil || a.code != http.StatusBadRequest ||
		a.contentType != "application/json" || e.Field != field || !strings.HasPrefix(e.Error, prefix) {
		t.Errorf("got %d %q %s\nwant 400 application/json naming %s, error starting %q", a.code, a.contentType, a.body, field, prefix)
	}
}

// assertHealthy checks that the server still answers a valid signed
// callback correctly and that, once the client lets its connections go,
// the goroutine count returns to its baseline.
func (h *hostileServer) assertHealthy(t *testing.T) {
	t.Helper()
	h.do(t, h.signedForm(t, callbackForm(`{}`))).expect(t, http.StatusOK, `{"instruction":"accept"}`)
	h.client.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= h.baseline+goroutineSlack {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines 5s after the case, baseline %d (+%d allowed):\n%s",
				n, h.baseline, goroutineSlack, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dial opens a raw connection to the server; it is closed when t ends.
func (h *hostileServer) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// hostileNested returns a JSON object nested depth levels deep: {"a":{"a":...1}}
// for objects, {"a":[[...1]]} for arrays.
func hostileNested(depth int, arrays bool) string {
	if arrays {
		return `{"a":` + strings.Repeat("[", depth-1) + "1" + strings.Repeat("]", depth-1) + "}"
	}
	return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
}

// hostileKeys returns a JSON object with n keys.
func hostileKeys(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	b.WriteByte('}')
	return b.String()
}

// hostileRawBody is the form body of callbackForm(`{}`) with TaskAttributes
// replaced by attrs, written unescaped: {, }, [, ], " and : need no escaping
// in a form body, and escaping them would push deeply nested attributes
// over the body limit.
func hostileRawBody(attrs string) string {
	f := callbackForm(`{}`)
	f.Del("TaskAttributes")
	return f.Encode() + "&TaskAttributes=" + attrs
}

// hostileWith returns callbackForm(`{}`) with name set to value.
func hostileWith(name, value string) url.Values {
	f := callbackForm(`{}`)
	f.Set(name, value)
	return f
}

// TestHostileInput sends each kind of hostile request to a real
// server and pins the answer it gets; after each, the server must still
// answer a valid callback and hold no more goroutines than before.
func TestHostileInput(t *testing.T) {
	tooLarge := `{"error":"body is larger than 131072 bytes"}`
	tests := []struct {
		name string
		run  func(t *testing.T, h *hostileServer)
	}{
		{"body over the limit with Content-Length", func(t *testing.T, h *hostileServer) {
			f := callbackForm(`{}`)
			f.Set("Padding", strings.Repeat("x", callback.MaxBodyBytes))
			h.do(t, h.signedForm(t, f)).expect(t, 413, tooLarge)
		}},
		{"body over the limit, chunked", func(t *testing.T, h *hostileServer) {
			f := callbackForm(`{}`)
			f.Set("Padding", strings.Repeat("x", callback.MaxBodyBytes))
			// A reader of unknown length makes the client send it chunked,
			// so only the MaxBytesReader can stop it.
			body := io.MultiReader(strings.NewReader(f.Encode()))
			req := h.request(t, formContentType, body, testkit.Sign(testToken, hostileBase+AssignmentPath, f))
			if req.ContentLength != 0 {
				t.Fatalf("request has Content-Length %d; want it chunked", req.ContentLength)
			}
			h.do(t, req).expect(t, 413, tooLarge)
		}},
		{"headers trickled slowly", func(t *testing.T, h *hostileServer) {
			c := h.dial(t)
			head := "POST " + AssignmentPath + " HTTP/1.1\r\nHost: " + h.addr + "\r\nContent-Type: " + formContentType + "\r\nX-Padding: " + strings.Repeat("x", 100) + "\r\n\r\n"
			start := time.Now()
			go func() {
				// One byte every 20 ms would take 3.5 s; the server must
				// close the connection after its read-header timeout.
				for i := range len(head) {
					if _, err := c.Write([]byte{head[i]}); err != nil {
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(c)
			took := time.Since(start)
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				t.Fatalf("the server kept the connection open for %s", took)
			}
			// net/http answers headers cut off mid-line by the timeout with
			// its own plain-text 400, and closes the connection; the
			// handler never runs.
			const want = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
			if string(got) != want {
				t.Errorf("answered %q; want %q and the connection closed", got, want)
			}
			if n := metricValue(t, h.reg, "assignd_callback_duration_seconds", nil); n != 0 {
				t.Errorf("the handler ran %v times", n)
			}
			t.Logf("closed after %s; the read-header timeout is %s", took, hostileReadHeaderTimeout)
		}},
		{"connection that never sends a byte", func(t *testing.T, h *hostileServer) {
			c := h.dial(t)
			start := time.Now()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(c)
			took := time.Since(start)
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				t.Fatalf("the server kept the connection open for %s", took)
			}
			if len(got) != 0 {
				t.Errorf("answered %q; want the connection closed without an answer", got)
			}
			t.Logf("closed after %s; the read-header timeout is %s", took, hostileReadHeaderTimeout)
		}},
		{"body that never finishes", func(t *testing.T, h *hostileServer) {
			c := h.dial(t)
			body := callbackForm(`{}`).Encode()
			start := time.Now()
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
				AssignmentPath, h.addr, formContentType, len(body)+100, body)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			took := time.Since(start)
			if err != nil {
				t.Fatalf("after %s: %v; want a 408", took, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := `{"error":"the body did not arrive within the read timeout"}`
			if resp.StatusCode != 408 || string(b) != want || !resp.Close {
				t.Errorf("got %d %s (close %v); want 408 %s and the connection closed", resp.StatusCode, b, resp.Close, want)
			}
			t.Logf("answered after %s; the read timeout is %s", took, hostileReadTimeout)
		}},
		{"invalid UTF-8 in TaskAttributes", func(t *testing.T, h *hostileServer) {
			a := h.do(t, h.signedForm(t, hostileWith("TaskAttributes", "{\"name\":\"\xff\xfe\"}")))
			a.expect(t, 400, `{"error":"TaskAttributes: is not valid UTF-8","field":"TaskAttributes"}`)
		}},
		{"invalid UTF-8 in WorkerAttributes, as a key", func(t *testing.T, h *hostileServer) {
			a := h.do(t, h.signedForm(t, hostileWith("WorkerAttributes", "{\"\xc3\x28\":1}")))
			a.expect(t, 400, `{"error":"WorkerAttributes: is not valid UTF-8","field":"WorkerAttributes"}`)
		}},
		{"invalid UTF-8 in an unknown field and its name is kept as sent", func(t *testing.T, h *hostileServer) {
			f := hostileWith("WorkerName", "\xff\xfe")
			f.Set("X\xffY", "z")
			h.do(t, h.signedForm(t, f)).expect(t, 200, `{"instruction":"accept"}`)
		}},
		{"invalid UTF-8 in a SID", func(t *testing.T, h *hostileServer) {
			h.do(t, h.signedForm(t, hostileWith("TaskSid", "WT\xff"))).expectField(t, "TaskSid", "TaskSid: ")
		}},
		{"invalid percent escape", func(t *testing.T, h *hostileServer) {
			req := h.request(t, formContentType, strings.NewReader(callbackForm(`{}`).Encode()+"&Bad=%zz"), "")
			h.do(t, req).expect(t, 400, `{"error":"body is not a valid form: invalid URL escape \"%zz\""}`)
		}},
		{"a field without a name, twice", func(t *testing.T, h *hostileServer) {
			body := callbackForm(`{}`).Encode() + "&=a&=b"
			h.do(t, h.signedBody(t, body)).expect(t, 400, `{"error":"body is not a valid form: a field has no name"}`)
		}},
		{"attributes nested 10,000 deep in objects", func(t *testing.T, h *hostileServer) {
			body := hostileRawBody(hostileNested(10000, false))
			if len(body) >= callback.MaxBodyBytes {
				t.Fatalf("body of %d bytes does not fit the limit", len(body))
			}
			h.do(t, h.signedBody(t, body)).expect(t, 400, `{"error":"TaskAttributes: is nested deeper than 64 levels","field":"TaskAttributes"}`)
		}},
		{"attributes nested 10,000 deep in arrays", func(t *testing.T, h *hostileServer) {
			h.do(t, h.signedBody(t, hostileRawBody(hostileNested(10000, true)))).expect(t, 400, `{"error":"TaskAttributes: is nested deeper than 64 levels","field":"TaskAttributes"}`)
		}},
		{"attributes nested 64 deep are fine", func(t *testing.T, h *hostileServer) {
			h.do(t, h.signedBody(t, hostileRawBody(hostileNested(64, false)))).expect(t, 200, `{"instruction":"accept"}`)
		}},
		{"100,000 attribute keys", func(t *testing.T, h *hostileServer) {
			h.do(t, h.signedBody(t, hostileRawBody(hostileKeys(100000)))).expect(t, 413, tooLarge)
		}},
		{"100,000 form fields", func(t *testing.T, h *hostileServer) {
			var b strings.Builder
			b.WriteString(callbackForm(`{}`).Encode())
			for i := range 100000 {
				fmt.Fprintf(&b, "&f%d=", i)
			}
			h.do(t, h.request(t, formContentType, strings.NewReader(b.String()), "")).expect(t, 413, tooLarge)
		}},
		{"as many attribute keys as fit under the limit", func(t *testing.T, h *hostileServer) {
			n := 1000
			for len(hostileRawBody(hostileKeys(n+500))) < callback.MaxBodyBytes {
				n += 500
			}
			a := h.do(t, h.signedBody(t, hostileRawBody(hostileKeys(n))))
			a.expect(t, 200, `{"instruction":"accept"}`)
			t.Logf("%d keys answered in %s", n, a.took)
		}},
		{"100 form fields, the most a form may have", func(t *testing.T, h *hostileServer) {
			f := callbackForm(`{}`)
			for i := len(f); i < callback.MaxFormFields; i++ {
				f.Set(strconv.FormatInt(int64(i), 36), "")
			}
			a := h.do(t, h.signedForm(t, f))
			a.expect(t, 200, `{"instruction":"accept"}`)
			t.Logf("%d fields answered in %s", callback.MaxFormFields, a.took)
		}},
		{"101 form fields, signed", func(t *testing.T, h *hostileServer) {
			f := callbackForm(`{}`)
			for i := len(f); i < callback.MaxFormFields+1; i++ {
				f.Set(strconv.FormatInt(int64(i), 36), "")
			}
			h.do(t, h.signedForm(t, f)).expect(t, 413, `{"error":"body is not a valid form: more than 100 fields"}`)
		}},
		{"10,000 form fields, unsigned", func(t *testing.T, h *hostileServer) {
			f := callbackForm(`{}`)
			for i := len(f); i < 10000; i++ {
				f.Set(strconv.FormatInt(int64(i), 36), "")
			}
			req := h.request(t, formContentType, strings.NewReader(f.Encode()), "")
			if req.ContentLength >= callback.MaxBodyBytes {
				t.Fatalf("body of %d bytes does not fit the limit", req.ContentLength)
			}
			h.do(t, req).expect(t, 413, `{"error":"body is not a valid form: more than 100 fields"}`)
		}},
		{"a field name of 65 bytes", func(t *testing.T, h *hostileServer) {
			h.do(t, h.signedForm(t, hostileWith(strings.Repeat("N", callback.MaxFieldNameBytes+1), "x"))).
				expect(t, 413, `{"error":"body is not a valid form: a field name is longer than 64 bytes"}`)
		}},
		{"a field name of 64 bytes is fine", func(t *testing.T, h *hostileServer) {
			h.do(t, h.signedForm(t, hostileWith(strings.Repeat("N", callback.MaxFieldNameBytes), "x"))).expect(t, 200, `{"instruction":"accept"}`)
		}},
		{"TaskAge beyond int64", func(t *testing.T, h *hostileServer) {
			h.do(t, h.signedForm(t, hostileWith("TaskAge", "99999999999999999999"))).
				expect(t, 400, `{"error":"TaskAge: must be a non-negative integer, not \"99999999999999999999\"","field":"TaskAge"}`)
		}},
		{"TaskPriority beyond int64", func(t *testing.T, h *hostileServer) {
			h.do(t, h.signedForm(t, hostileWith("TaskPriority", "9223372036854775808"))).
				expect(t, 400, `{"error":"TaskPriority: must be a non-negative integer, not \"9223372036854775808\"","field":"TaskPriority"}`)
		}},
		{"TaskAge in exponent form", func(t *testing.T, h *hostileServer) {
			h.do(t, h.signedForm(t, hostileWith("TaskAge", "1e3"))).expectField(t, "TaskAge", "TaskAge: must be a non-negative integer")
		}},
		{"attribute number beyond float64", func(t *testing.T, h *hostileServer) {
			h.do(t, h.signedForm(t, hostileWith("TaskAttributes", `{"n":1e400}`))).expectField(t, "TaskAttributes", "TaskAttributes: is not valid JSON")
		}},
		{"attribute number beyond float64 in WorkerAttributes", func(t *testing.T, h *hostileServer) {
			h.do(t, h.signedForm(t, hostileWith("WorkerAttributes", `{"n":[-1e309]}`))).expectField(t, "WorkerAttributes", "WorkerAttributes: is not valid JSON")
		}},
		{"attribute integer beyond int64 is read as a float64", func(t *testing.T, h *hostileServer) {
			h.do(t, h.signedForm(t, hostileWith("TaskAttributes", `{"n":123456789012345678901234567890}`))).expect(t, 200, `{"instruction":"accept"}`)
		}},
		{"duplicate form field", func(t *testing.T, h *hostileServer) {
			body := callbackForm(`{}`).Encode() + "&TaskSid=WT00000000000000000000000000000000"
			h.do(t, h.signedBody(t, body)).expect(t, 400, `{"error":"field is given more than once","field":"TaskSid"}`)
		}},
		{"duplicate form field with the same value", func(t *testing.T, h *hostileServer) {
			body := callbackForm(`{}`).Encode() + "&TaskAttributes=%7B%7D"
			h.do(t, h.signedBody(t, body)).expect(t, 400, `{"error":"field is given more than once","field":"TaskAttributes"}`)
		}},
		{"wrong content types", func(t *testing.T, h *hostileServer) {
			for _, ct := range []string{"", "application/json", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded;;", "application/x-www-form-urlencodedx", "*/*"} {
				req := h.request(t, ct, strings.NewReader(callbackForm(`{}`).Encode()), testkit.Sign(testToken, hostileBase+AssignmentPath, callbackForm(`{}`)))
				a := h.do(t, req)
				if a.code != 415 || a.body != `{"error":"content type must be application/x-www-form-urlencoded"}` {
					t.Errorf("Content-Type %q: got %d %s, want 415", ct, a.code, a.body)
				}
			}
		}},
		{"form content type with parameters and in capitals is fine", func(t *testing.T, h *hostileServer) {
			for _, ct := range []string{"application/x-www-form-urlencoded; charset=utf-8", "Application/X-WWW-Form-URLEncoded"} {
				req := h.signedForm(t, callbackForm(`{}`))
				req.Header.Set("Content-Type", ct)
				h.do(t, req).expect(t, 200, `{"instruction":"accept"}`)
			}
		}},
		{"absurd SIDs", func(t *testing.T, h *hostileServer) {
			for _, tc := range []struct{ name, field, value string }{
				{"40,000 digits", "ReservationSid", "WR" + strings.Repeat("7", 40000)},
				{"wrong prefix", "ReservationSid", "WK77777777777777777777777777777777"},
				{"not hex", "ReservationSid", "WRzz777777777777777777777777777777"},
				{"full-width digits", "ReservationSid", "WR" + strings.Repeat("７", 32)},
				{"one digit short", "ReservationSid", "WR7777777777777777777777777777777"},
				{"trailing newline", "TaskSid", "WT55555555555555555555555555555555\n"},
				{"NUL", "AccountSid", "AC1111111111111111111111111111111\x00"},
				{"lower-case prefix", "WorkspaceSid", "ws22222222222222222222222222222222"},
				{"space", "WorkflowSid", "WW 3333333333333333333333333333333"},
				{"path", "TaskQueueSid", "../../../etc/passwd"},
				{"SQL", "WorkerSid", "WK66666666666666666666666666666666' OR 1=1 --"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					h.do(t, h.signedForm(t, hostileWith(tc.field, tc.value))).expectField(t, tc.field, tc.field+": ")
				})
			}
			f := callbackForm(`{}`)
			f.Del("ReservationSid")
			h.do(t, h.signedForm(t, f)).expect(t, 400, `{"error":"ReservationSid: is required","field":"ReservationSid"}`)
		}},
		{"a flood of 2,000 bad signatures", func(t *testing.T, h *hostileServer) {
			const n, workers = 2000, 4
			bodies := make(chan int)
			var wrong atomic.Int64
			var wg sync.WaitGroup
			start := time.Now()
			for range workers {
				wg.Go(func() {
					for i := range bodies {
						f := callbackForm(`{}`)
						f.Set("ReservationSid", fmt.Sprintf("WR%032x", i))
						sig := ""
						switch i % 3 {
						case 0: // signed with another token
							sig = testkit.Sign(testTokenNext, hostileBase+AssignmentPath, f)
						case 1: // signed for another URL
							sig = testkit.Sign(testToken, "https://evil.example.com"+AssignmentPath, f)
						}
						req, err := http.NewRequest(http.MethodPost, h.target, strings.NewReader(f.Encode()))
						if err != nil {
							wrong.Add(1)
							continue
						}
						req.Header.Set("Content-Type", formContentType)
						if sig != "" {
							req.Header.Set(callback.SignatureHeader, sig)
						}
						a, err := h.send(req)
						if err != nil || a.code != 403 || a.body != `{"error":"invalid signature"}` {
							wrong.Add(1)
						}
					}
				})
			}
			for i := range n {
				bodies <- i
			}
			close(bodies)
			wg.Wait()
			took := time.Since(start)
			if w := wrong.Load(); w != 0 {
				t.Errorf("%d of %d bad signatures did not get 403 {\"error\":\"invalid signature\"}", w, n)
			}
			if got := metricValue(t, h.reg, "assignd_signature_failures_total", nil); got != n {
				t.Errorf("assignd_signature_failures_total = %v, want %d", got, n)
			}
			if got := metricValue(t, h.reg, "assignd_callbacks_total", map[string]string{"code": "403"}); got != n {
				t.Errorf("assignd_callbacks_total{code=403} = %v, want %d", got, n)
			}
			// The limiter allows a burst of 5, then one line a second.
			warns := h.logs.FilterLevelExact(zapcore.WarnLevel).Len()
			limit := 5 + int(took/time.Second) + 1
			t.Logf("%d bad signatures in %s (%s each with %d clients), %d warn lines", n, took, took/n*workers, workers, warns)
			if warns == 0 || warns > limit {
				t.Errorf("%d warn lines for %d bad signatures in %s; want 1..%d", warns, n, took, limit)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := startHostile(t)
			tc.run(t, h)
			h.assertHealthy(t)
		})
	}
}
