package policy

import (
	"errors"
	"fmt"

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
func readFile(path string) ([]byte, error) {
	src, err := regfile.Read(path, MaxFileSize)
	var tooLarge *regfile.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		return nil, fmt.Errorf("reading policy: %q is larger than the limit of 1 MiB (%d bytes)", path, MaxFileSize)
	case err != nil:
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	return src, nil
}
