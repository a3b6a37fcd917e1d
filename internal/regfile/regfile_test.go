package regfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(path, 5); err != nil || string(b) != "12345" {
		t.Errorf("Read at the limit = %q, %v", b, err)
	}
	var tl *TooLargeError
	if _, err := Read(path, 4); !errors.As(err, &tl) || tl.Max != 4 || tl.Path != path {
		t.Errorf("Read over the limit = %v, want a *TooLargeError", err)
	}
	if _, err := Read(dir, 5); err == nil || !strings.HasSuffix(err.Error(), "is a directory, not a regular file") {
		t.Errorf("Read of a directory = %v", err)
	}
	if _, err := Read(filepath.Join(dir, "none"), 5); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read of a missing file = %v, want os.ErrNotExist", err)
	}
}
