package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/assignd/assignd/policy/table"
)

const tableUsage = `usage: assignd table hash [-column NAME] FILE
       assignd table hash VALUE...

hash FILE writes the CSV file to standard output with the values of one
column (the first unless -column names another) replaced by their hex
SHA-256, as a table with hash: sha256 stores its keys, so that the file
committed holds no phone numbers. The header stays as it is.

hash VALUE... prints the hex SHA-256 of each value, one a line, in order.
A single argument that names an existing file is read as FILE.
`

// Table implements "assignd table hash". It returns the exit code: 0,
// 1 when the file cannot be read or hashed, 2 for a usage error.
func Table(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "hash" {
		if len(args) > 0 && (IsHelp(args[0]) || args[0] == "help") {
			fmt.Fprint(stdout, tableUsage)
			return 0
		}
		if len(args) == 0 {
			return usageError(stderr, "table", "no subcommand given: the one is hash")
		}
		return usageError(stderr, "table", "unknown subcommand %q: the one is hash", args[0])
	}
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), tableUsage) }
	column := fs.String("column", "", "the column to hash (default the first)")
	if code, ok := parseFlags(fs, args[1:], stdout, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(stderr, "table", "table hash needs a FILE or VALUEs")
	}
	if fs.NArg() == 1 {
		if fi, err := os.Stat(fs.Arg(0)); err == nil && !fi.IsDir() {
			return hashFile(fs.Arg(0), *column, stdout, stderr)
		}
	}
	if *column != "" || (fs.NArg() == 1 && strings.HasSuffix(strings.ToLower(fs.Arg(0)), ".csv")) {
		fmt.Fprintf(stderr, "assignd table hash: %q is not a file\n", fs.Arg(0))
		return 2
	}
	for _, v := range fs.Args() {
		fmt.Fprintln(stdout, table.HashValue(v))
	}
	return 0
}

// hashFile hashes one column of a CSV file to stdout.
func hashFile(path, column string, stdout, stderr io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "assignd table hash: %v\n", err)
		return 1
	}
	defer f.Close()
	if err := table.HashCSV(stdout, f, path, column); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
