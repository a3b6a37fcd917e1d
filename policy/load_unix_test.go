//go:build unix

package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadFileOnlyRegularFiles: what is not a
// regular file of at most 1 MiB is refused at once, with a message naming
// the file and the limit, instead of blocking (a FIFO) or exhausting
// memory (/dev/zero).
func TestLoadFileOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "policy.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("version: 1\n#"+strings.Repeat("x", MaxFileSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	atLimit := filepath.Join(dir, "at-limit.yaml")
	src := "version: 1\nrules:\n  - {name: d, instruction: accept}\n#"
	if err := os.WriteFile(atLimit, []byte(src+strings.Repeat("x", MaxFileSize-len(src))), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(atLimit, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path, want string }{
		{"fifo", fifo, fmt.Sprintf("reading policy: %q is a named pipe (FIFO), not a regular file", fifo)},
		{"directory", dir, fmt.Sprintf("reading policy: %q is a directory, not a regular file", dir)},
		{"device", "/dev/zero", `reading policy: "/dev/zero" is a device, not a regular file`},
		{"larger than 1 MiB", big, fmt.Sprintf("reading policy: %q is larger than the limit of 1 MiB (1048576 bytes)", big)},
		{"exactly 1 MiB", atLimit, ""},
		{"symlink to a regular file, as a ConfigMap mounts it", link, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := LoadFile(tt.path)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("LoadFile blocked")
			}
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("LoadFile(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}
