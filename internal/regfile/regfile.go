// Package regfile reads the files assignd loads at run time (the policy
// and its tables) under one set of rules: a regular file, within a size
// limit. A FIFO would block every reload until something writes to it,
// and a device such as /dev/zero would never end.
package regfile

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// TooLargeError is Read's error for a file over the limit.
type TooLargeError struct {
	Path string
	// Max is the limit in bytes.
	Max int64
}

// Error says which file and which limit, in bytes.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%q is larger than the limit of %d bytes", e.Path, e.Max)
}

// Read reads path, which must be a regular file of at most max bytes.
// Open and read errors are returned as they are; a file of another kind
// gets an error naming the kind, and a file over max a *TooLargeError,
// even if it grows while being read.
func Read(path string, max int64) ([]byte, error) {
	// O_NONBLOCK, so that opening a FIFO returns at once instead of
	// waiting for a writer; it does not change how a regular file reads.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%q is %s, not a regular file", path, kind(fi.Mode()))
	}
	if fi.Size() > max {
		return nil, &TooLargeError{Path: path, Max: max}
	}
	src, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(src)) > max {
		return nil, &TooLargeError{Path: path, Max: max}
	}
	return src, nil
}

// kind names what a non-regular file is.
func kind(m os.FileMode) string {
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
