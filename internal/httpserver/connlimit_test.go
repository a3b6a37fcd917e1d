package httpserver

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"go.uber.org/zap"
)

// TestConnLimiterKeepsBusyConnections holds a listener of one slot with a
// request in flight: a second connection is not served by evicting it, and
// is served once the first request is answered and its connection idles.
func TestConnLimiterKeepsBusyConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := LimitConns(ln, 1)
	entered, release := make(chan struct{}, 2), make(chan struct{})
	hs := New(ln.Addr().String(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		if r.URL.Path == "/hold" {
			<-release
		}
		io.WriteString(w, r.URL.Path)
	}), zap.NewNop(), Timeouts{ReadHeader: time.Minute, Read: time.Minute, Write: time.Minute, Idle: time.Hour})
	hs.ConnState = lim.ConnState
	go hs.Serve(lim)
	defer hs.Close()

	ask := func(path string) (net.Conn, chan string) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		got := make(chan string, 1)
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			got <- string(b)
		}()
		return c, got
	}
	_, held := ask("/hold")
	<-entered
	_, next := ask("/next")
	close(release)
	if got := <-held; got != "/hold" {
		t.Fatalf("the request in flight got %q: it was evicted", got)
	}
	if got := <-next; got != "/next" {
		t.Fatalf("the waiting connection got %q", got)
	}
}
