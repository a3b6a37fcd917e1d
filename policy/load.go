package policy

import (
	"errors"
	"fmt"
	"os"

	"github.com/assignd/assignd/internal/regfile"
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
func LoadFile(path string) (*Policy, error) { return LoadFileWith(path, Options{}) }

// MaxFileSize is the largest policy file LoadFile reads, 1 MiB: far more
// than any policy needs, and small enough to hold and hash twice.
const MaxFileSize = 1 << 20

// readFile reads a policy file within LoadFile's limits.
func readFile(path string) ([]byte, error) { return ReadRegular(path, "policy", MaxFileSize) }

// OpenRegular opens path for reading if it is a regular file of at most
// limit bytes (no limit when limit < 0), with LoadFile's messages, "reading
// what: ...". It is how every file a user names is opened, policy, table,
// test file, captured callback or replay source alike (internal/regfile
// holds the rules): a FIFO is refused without waiting for a writer, and a
// device such as /dev/zero or a directory is refused before any read.
func OpenRegular(path, what string, limit int64) (*os.File, error) {
	f, err := regfile.Open(path, limit)
	return f, readError(what, limit, err)
}

// ReadRegular reads the regular file at path, of at most limit bytes,
// whole, holding the limit even if the file grows after it was opened.
func ReadRegular(path, what string, limit int64) ([]byte, error) {
	src, err := regfile.Read(path, limit)
	return src, readError(what, limit, err)
}

// readError puts regfile's error in LoadFile's words.
func readError(what string, limit int64, err error) error {
	var tl *regfile.TooLargeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tl):
		size := fmt.Sprintf("%d KiB", limit>>10)
		if limit%(1<<20) == 0 {
			size = fmt.Sprintf("%d MiB", limit>>20)
		}
		return fmt.Errorf("reading %s: %q is larger than the limit of %s (%d bytes)", what, tl.Path, size, limit)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}
