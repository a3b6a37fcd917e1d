package main

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a stderr that the logger's flush goroutine and the test
// may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveEnv sets the environment of an in-process serve outside development
// mode, where the log is buffered, running the example on purpose, on
// loopback ports the kernel picks.
func serveEnv(t *testing.T, extra map[string]string) {
	for _, k := range []string{"ASSIGND_POLICY_FILE", "ASSIGND_DEV", "TWILIO_API_KEY", "TWILIO_API_SECRET",
		"TWILIO_ACCOUNT_SID", "ASSIGND_PUBLIC_BASE_URL", "ASSIGND_SHUTDOWN_DELAY", "ASSIGND_LOG_LEVEL", "ASSIGND_LOG_FORMAT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("ASSIGND_LISTEN", "127.0.0.1:0")
	t.Setenv("ASSIGND_ADMIN_LISTEN", "127.0.0.1:0")
	t.Setenv("TWILIO_AUTH_TOKEN", "tok")
	t.Setenv("ASSIGND_EXAMPLE_POLICY", "true")
	t.Setenv("ASSIGND_TASKROUTER_URL", "http://127.0.0.1:1")
	for k, v := range extra {
		t.Setenv(k, v)
	}
}

// TestServeFlushesLogOnFatalStartError: a start that fails after logging
// (the embedded example's update-mode rules without REST credentials) must
// show every buffered line before the error, not lose them to the buffer.
func TestServeFlushesLogOnFatalStartError(t *testing.T) {
	serveEnv(t, nil)
	var stdout, stderr syncBuffer
	if code := serveCommand(nil, nil, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	out := stderr.String()
	loaded, fatal := strings.Index(out, `"policy loaded"`), strings.Index(out, "assignd: update-mode rules need REST credentials")
	if loaded < 0 || fatal < 0 || loaded > fatal {
		t.Errorf("want the buffered log lines, then the error; stderr:\n%s", out)
	}
}

// TestServeFlushesLogOnSIGTERM sends this process a real SIGTERM while serve
// runs in it: the lines of the shutdown, up to the last, must be written
// when serve returns, not a flush interval later or never.
func TestServeFlushesLogOnSIGTERM(t *testing.T) {
	serveEnv(t, map[string]string{"TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000"})
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- serveCommand(nil, nil, &stdout, &stderr) }()
	// "assignd started" comes after the signal handler is in place; it
	// shows with the buffer's periodic flush.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), `"assignd started"`); {
		select {
		case code := <-done:
			t.Fatalf("serve ended with %d before starting:\n%s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		out := stderr.String()
		if code != 0 || !strings.Contains(out, `"shutting down"`) || !strings.HasSuffix(strings.TrimSpace(out), "}") ||
			!strings.Contains(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:], `"assignd stopped"`) {
			t.Errorf("exit %d; want 0 and the shutdown lines, \"assignd stopped\" last:\n%s", code, out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after SIGTERM")
	}
}

// TestServeWarnsOfUnknownVariables: a variable assignd does not read is a
// warn line naming it and the closest one it reads.
func TestServeWarnsOfUnknownVariables(t *testing.T) {
	serveEnv(t, map[string]string{"ASSIGND_SHUTDOWN_TIMOUT": "5s"})
	var stdout, stderr syncBuffer
	serveCommand(nil, nil, &stdout, &stderr) // stops on the example's update-mode rules without an account
	out := stderr.String()
	if !strings.Contains(out, `"level":"warn"`) || !strings.Contains(out, `"msg":"unknown environment variable","variable":"ASSIGND_SHUTDOWN_TIMOUT","did_you_mean":"ASSIGND_SHUTDOWN_TIMEOUT"`) {
		t.Errorf("no warning naming the variable and the suggestion; stderr:\n%s", out)
	}
}
