package app

import (
	"bufio"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestMaxConnections holds the callback listener to ASSIGND_MAX_CONNECTIONS
// connections, counting the ones serving a request: with a cap of 2 and
// two connections open and idle, a third is served, the idle connection
// opened first being closed to make room.
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
	first, second := dial(), dial()
	_ = second
	third := dial()
	if _, err := third.Write([]byte("GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	third.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil {
		t.Fatalf("third connection with two idle ones open: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("third connection answered %d, want 404", resp.StatusCode)
	}
	// The first, idle longest, made room: the server has closed it.
	first.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := first.Read(make([]byte, 1)); err == nil {
		t.Errorf("first connection still open (read %d bytes)", n)
	}
}
