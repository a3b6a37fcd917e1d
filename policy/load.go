package policy

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// LoadFile reads and parses the policy file at path. It is the one way a
// policy file is read: Store uses it on start and on every reload, and
// validate and explain use it, so all of them accept and refuse the same
// files with the same messages. A file that does not parse returns a
// *LoadError; one that cannot be read, an error that says so.
//
// The file must be a regular file of at most MaxFileSize bytes: a FIFO
// would block every reload until something writes to it, and a device
// such as /dev/zero would never end.
func LoadFile(path string) (*Policy, error) {
	src, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

// MaxFileSize is the largest policy file LoadFile reads, 1 MiB: far more
// than any policy needs, and small enough to hold and hash twice.
const MaxFileSize = 1 << 20

// readFile reads a policy file within LoadFile's limits.
func readFile(path string) ([]byte, error) {
	// O_NONBLOCK, so that opening a FIFO returns at once instead of
	// waiting for a writer; it does not change how a regular file reads.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("reading policy: %q is %s, not a regular file", path, fileKind(fi.Mode()))
	}
	tooLarge := fmt.Errorf("reading policy: %q is larger than the limit of 1 MiB (%d bytes)", path, MaxFileSize)
	if fi.Size() > MaxFileSize {
		return nil, tooLarge
	}
	// The limit holds even if the file grows after Stat.
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	if len(src) > MaxFileSize {
		return nil, tooLarge
	}
	return src, nil
}

// fileKind names what a non-regular file is, for LoadFile's message.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a plain file (" + m.Type().String() + ")"
}
