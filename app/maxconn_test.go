package app

import (
	"bufio"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestMaxConnections holds the callback listener to ASSIGND_MAX_CONNECTIONS:
// with a cap of 2 and two connections open, a third is not served until
// one of the two closes.
func TestMaxConnections(t *testing.T) {
	cfg := testConfig()
	cfg.Dev = true
	cfg.MaxConnections = 2
	r := start(t, cfg)
	addr, _ := r.app.Addrs()

	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// ask sends one request on c and waits up to d for the status line.
	ask := func(c net.Conn, d time.Duration) (int, error) {
		if _, err := c.Write([]byte("GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			return 0, err
		}
		c.SetReadDeadline(time.Now().Add(d))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	first, second := dial(), dial()
	for i, c := range []net.Conn{first, second} {
		if code, err := ask(c, 10*time.Second); err != nil || code != http.StatusNotFound {
			t.Fatalf("connection %d under the cap: %d, %v; want a 404", i+1, code, err)
		}
	}
	third := dial()
	// Not answered while two are open: the listener does not accept it.
	// A slow machine can only make this pass more easily, never fail it.
	if code, err := ask(third, 300*time.Millisecond); err == nil {
		t.Fatalf("third connection answered %d with two open and a cap of 2", code)
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("third connection: %v, want a read timeout", err)
	}
	first.Close()
	third.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil {
		t.Fatalf("third connection after the first closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("third connection answered %d, want 404", resp.StatusCode)
	}
}
