package handlers

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/internal/httpserver"
)

// edgeServer is a Server in signed mode behind a loopback listener held
// to slots connections as the app holds it, with an idle timeout longer
// than any test so that only the limiter frees idle connections.
type edgeServer struct {
	*testEnv
	addr string
}

func startEdge(t *testing.T, slots int, wrap func(http.Handler) http.Handler) *edgeServer {
	t.Helper()
	env := newTestServer(t, func(o *Options) {
		o.Config = &config.Config{AuthToken: testToken, PublicBaseURL: hostileBase}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := httpserver.LimitConns(ln, slots)
	h := env.srv.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	hs := httpserver.New(ln.Addr().String(), h, zap.NewNop(), httpserver.Timeouts{ReadHeader: time.Minute, Read: time.Minute, Write: time.Minute, Idle: time.Hour})
	hs.ConnState = lim.ConnState
	go hs.Serve(lim)
	t.Cleanup(func() { hs.Close() })
	return &edgeServer{testEnv: env, addr: ln.Addr().String()}
}

// dial opens a raw connection, closed when t ends.
func (e *edgeServer) dial(t *testing.T) net.Conn {
	t.Helper()
	return (&hostileServer{addr: e.addr}).dial(t)
}

// signedRaw is the raw HTTP/1.1 request of a valid signed callback.
func signedRaw(t *testing.T) string {
	t.Helper()
	req := (&hostileServer{target: "http://x" + AssignmentPath}).signedForm(t, callbackForm(`{}`))
	body, _ := io.ReadAll(req.Body)
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nX-Twilio-Signature: %s\r\nContent-Length: %d\r\n\r\n%s",
		AssignmentPath, formContentType, req.Header.Get("X-Twilio-Signature"), len(body), body)
}

// exchange writes raw on c and reads one response.
func exchange(t *testing.T, c net.Conn, raw string) *http.Response {
	t.Helper()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestIdleConnectionsCannotHoldSlots fills a listener of 16 slots three
// times over with connections that hold on without a request in progress:
// ones refused as unsigned (which the server closes), ones that never
// send a byte, and keep-alive ones idle after a signed callback. A signed
// callback on a new connection is still answered 200, and one held in
// flight meanwhile is not evicted.
func TestIdleConnectionsCannotHoldSlots(t *testing.T) {
	const slots = 16
	hold, held := make(chan struct{}), make(chan struct{}, 1)
	var first atomic.Bool
	e := startEdge(t, slots, nil)
	e.srv.beforeDecide = func() {
		if first.CompareAndSwap(false, true) {
			held <- struct{}{}
			<-hold
		}
	}
	inFlight := e.dial(t)
	answered := make(chan *http.Response, 1)
	go func() {
		io.WriteString(inFlight, signedRaw(t))
		resp, err := http.ReadResponse(bufio.NewReader(inFlight), nil)
		if err != nil {
			t.Errorf("the request in flight: %v", err)
		}
		answered <- resp
	}()
	<-held

	unsigned := "POST " + AssignmentPath + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + formContentType + "\r\nContent-Length: 3\r\n\r\na=b"
	for range slots {
		c := e.dial(t)
		if resp := exchange(t, c, unsigned); resp.StatusCode != http.StatusForbidden || !resp.Close {
			t.Fatalf("unsigned request: %d, close %v; want 403 and the connection closed", resp.StatusCode, resp.Close)
		}
	}
	for range slots {
		e.dial(t) // never sends a byte
	}
	for range slots {
		if resp := exchange(t, e.dial(t), signedRaw(t)); resp.StatusCode != http.StatusOK {
			t.Fatalf("signed keep-alive callback: %d", resp.StatusCode)
		}
	}
	if resp := exchange(t, e.dial(t), signedRaw(t)); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed callback with every slot idle: %d, want 200", resp.StatusCode)
	}
	close(hold)
	if resp := <-answered; resp == nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the callback held in flight was not answered 200: %v", resp)
	}
}

// TestHeadersBounded refuses a request whose headers pass 16 KiB with 431
// before the handler runs; on the callback listener an unsigned request
// with 64 KiB of headers is not read as a request at all.
func TestHeadersBounded(t *testing.T) {
	e := startEdge(t, 4, nil)
	raw := "POST " + AssignmentPath + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + formContentType + "\r\n" +
		"X-Pad: " + strings.Repeat("a", 64<<10) + "\r\nContent-Length: 3\r\n\r\na=b"
	if resp := exchange(t, e.dial(t), raw); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KiB of headers: %d, want 431", resp.StatusCode)
	}
}

// memoryPerConn is the stated bound on the heap a connection that has sent
// its headers and part of its body costs while it waits for the rest:
// 4,096 of them stay under 4096 × 40 KiB = 160 MiB of the pod's 256 MiB.
const memoryPerConn = 40 << 10

// firstRead calls arrived once, when the handler first reads the body:
// by then it has allocated whatever it allocates before the body arrives.
type firstRead struct {
	io.ReadCloser
	once    sync.Once
	arrived func()
}

func (f *firstRead) Read(p []byte) (int, error) {
	f.once.Do(f.arrived)
	return f.ReadCloser.Read(p)
}

// heapInUse is the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestSlowConnectionsMemoryBounded holds 256 connections that announce a
// body of the largest size and send 16 bytes of it, half of them with
// 12 KiB of headers, and measures the live heap once every handler waits
// for the rest: the server allocates with what arrives, not with what is
// announced, so each costs less than memoryPerConn.
func TestSlowConnectionsMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 256 connections")
	}
	const n = 256
	var waiting sync.WaitGroup
	var arrived atomic.Int64
	waiting.Add(n)
	e := startEdge(t, n+1, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = &firstRead{ReadCloser: r.Body, arrived: func() { arrived.Add(1); waiting.Done() }}
			h.ServeHTTP(w, r)
		})
	})
	// Warm the server up so that its pools and first-use allocations are
	// in the baseline.
	exchange(t, e.dial(t), signedRaw(t))
	before := heapInUse()
	pad := "X-Pad: " + strings.Repeat("a", 12<<10) + "\r\n"
	for i := range n {
		head := "POST " + AssignmentPath + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + formContentType + "\r\n"
		if i%2 == 1 {
			head += pad
		}
		raw := head + fmt.Sprintf("Content-Length: %d\r\n\r\n", callback.MaxBodyBytes) + strings.Repeat("a", 16)
		if _, err := io.WriteString(e.dial(t), raw); err != nil {
			t.Fatal(err)
		}
	}
	// A connection that never reaches the handler must fail the test, not
	// hang it until the package's timeout.
	all := make(chan struct{})
	go func() { waiting.Wait(); close(all) }()
	select {
	case <-all:
	case <-time.After(2 * time.Minute):
		t.Fatalf("only %d of %d connections reached the handler", arrived.Load(), n)
	}
	grown := heapInUse() - before
	t.Logf("%d waiting connections: heap grew %d KiB, %d bytes each", n, grown>>10, grown/n)
	if grown > n*memoryPerConn {
		t.Errorf("%d waiting connections grew the heap by %d KiB, over %d KiB each", n, grown>>10, memoryPerConn>>10)
	}
}
