package twilio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/assignd/assignd/policy"
)

// TestRESTHostileResponsesBounded answers the updater from a hostile
// server: 1 MiB of response headers fail the attempt, and a 64 MiB body is
// read no further than the transport's bound, whatever the server tries to
// send.
func TestRESTHostileResponsesBounded(t *testing.T) {
	up := testUpdate(1, policy.Instruction{Name: policy.Accept})
	t.Run("headers", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for i := range 64 {
				w.Header().Set("X-Pad-"+string(rune('a'+i%26))+strings.Repeat("x", i), strings.Repeat("a", 16<<10))
			}
			w.WriteHeader(http.StatusOK)
		}))
		defer srv.Close()
		send, err := NewSender(testConfig(t, srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		err = send(context.Background(), up)
		if err == nil || !strings.Contains(err.Error(), "headers exceeded") {
			t.Fatalf("1 MiB of response headers: %v, want the attempt refused", err)
		}
	})
	t.Run("body", func(t *testing.T) {
		var written atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			chunk := []byte(strings.Repeat("a", 64<<10))
			for range 1024 { // 64 MiB
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					return
				}
			}
		}))
		send, err := NewSender(testConfig(t, srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		if err := send(context.Background(), up); err != nil {
			t.Errorf("a 200 with an endless body: %v, want the update taken", err)
		}
		srv.CloseClientConnections()
		srv.Close()
		// The kernel's socket buffers take a few MiB the client never reads.
		if n := written.Load(); n > 16<<20 {
			t.Errorf("the server wrote %d MiB before the client hung up, want the read cut at %d KiB", n>>20, maxBody>>10)
		}
	})
}
