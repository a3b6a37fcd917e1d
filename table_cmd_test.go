package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/assignd/assignd/internal/testkit"
)

// TestTableGolden runs "assignd table" as a user would and pins its whole
// output and exit code; each testdata/table/*.txtar archive holds an args:
// line and the exit, stdout and stderr sections, which -update rewrites.
func TestTableGolden(t *testing.T) {
	for _, file := range testkit.Archives(t, "testdata/table") {
		t.Run(testkit.Name(file), func(t *testing.T) {
			a := testkit.ReadArchive(t, file)
			line := strings.TrimSpace(string(a.Comment))
			if !strings.HasPrefix(line, "args: ") {
				t.Fatal("no args: line")
			}
			args := splitArgs(t, strings.TrimPrefix(line, "args: "))
			var stdout, stderr bytes.Buffer
			code := run(args, strings.NewReader(""), &stdout, &stderr)
			testkit.Golden(t, file, a,
				txtar.File{Name: "exit", Data: []byte(strconv.Itoa(code) + "\n")},
				txtar.File{Name: "stdout", Data: stdout.Bytes()},
				txtar.File{Name: "stderr", Data: stderr.Bytes()})
		})
	}
}
