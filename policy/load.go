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
func readFile(path string) ([]byte, error) { return ReadRegular(path, "policy", MaxFileSize) }

// OpenRegular opens path for reading if it is a regular file of at most
// limit bytes (no limit when limit < 0), with LoadFile's messages, "reading
// what: ...". It is how every file a user names is opened, policy, test
// file, captured callback or replay source alike: a FIFO is refused without
// waiting for a writer, and a device such as /dev/zero or a directory is
// refused before any read.
func OpenRegular(path, what string, limit int64) (*os.File, error) {
	// O_NONBLOCK, so that opening a FIFO returns at once instead of
	// waiting for a writer; it does not change how a regular file reads.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("reading %s: %q is %s, not a regular file", what, path, fileKind(fi.Mode()))
	}
	if limit >= 0 && fi.Size() > limit {
		f.Close()
		return nil, tooLarge(path, what, limit)
	}
	return f, nil
}

// ReadRegular reads the regular file at path, of at most limit bytes,
// whole: OpenRegular, then a read that holds the limit even if the file
// grows after it was opened.
func ReadRegular(path, what string, limit int64) ([]byte, error) {
	f, err := OpenRegular(path, what, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if int64(len(src)) > limit {
		return nil, tooLarge(path, what, limit)
	}
	return src, nil
}

// tooLarge is the refusal of a file over limit bytes.
func tooLarge(path, what string, limit int64) error {
	size := fmt.Sprintf("%d KiB", limit>>10)
	if limit%(1<<20) == 0 {
		size = fmt.Sprintf("%d MiB", limit>>20)
	}
	return fmt.Errorf("reading %s: %q is larger than the limit of %s (%d bytes)", what, path, size, limit)
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
