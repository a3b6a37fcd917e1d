package testkit

import (
	"net"
	"testing"
)

// FreeAddr returns a loopback address, 127.0.0.1:port, whose port was free
// a moment ago. It is for starting a process that binds the address
// itself; a test in the same process should listen on :0 and keep the
// listener instead, which cannot race.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
