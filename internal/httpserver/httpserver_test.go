package httpserver

import (
	"net/http"
	"testing"
	"time"

	"go.uber.org/zap"
)

// TestNewHTTPServerTimeouts pins that Default holds the production timeouts.
func TestNewHTTPServerTimeouts(t *testing.T) {
	hs := New(":0", http.NotFoundHandler(), zap.NewNop(), Default)
	got := [4]time.Duration{hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout}
	want := [4]time.Duration{5 * time.Second, 10 * time.Second, 10 * time.Second, 15 * time.Second}
	if got != want {
		t.Errorf("timeouts %v, want %v", got, want)
	}
	if hs.ErrorLog == nil {
		t.Errorf("no ErrorLog")
	}
	if hs.MaxHeaderBytes != 16<<10 {
		t.Errorf("MaxHeaderBytes %d, want 16 KiB", hs.MaxHeaderBytes)
	}
}

func TestTimeoutsOnHTTPServer(t *testing.T) {
	hs := New(":0", http.NotFoundHandler(), zap.NewNop(), Default)
	if hs.ReadHeaderTimeout == 0 || hs.ReadTimeout == 0 || hs.WriteTimeout == 0 || hs.IdleTimeout == 0 {
		t.Fatalf("timeouts not all set: %+v", hs)
	}
	if WriteTimeout <= 5*time.Second {
		t.Errorf("WriteTimeout %s leaves no room for TaskRouter's 5s budget", WriteTimeout)
	}
}
