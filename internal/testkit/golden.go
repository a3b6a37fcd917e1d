package testkit

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// update is the one -update flag of every test binary that uses golden
// files. A flag is process-wide by nature; it is read, never written, by
// the code here.
var update = flag.Bool("update", false, "rewrite golden files (testdata/**/*.txtar) with the current output instead of comparing")

// Updating reports whether the test runs with -update, in which case
// Golden rewrites golden files instead of comparing with them.
func Updating() bool { return *update }

// Archives returns the .txtar files in dir, failing t if there are none:
// a harness that finds no golden files must not pass by testing nothing.
func Archives(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in %s: %v", dir, err)
	}
	return files
}

// Name is file's base name without .txtar, the name of its subtest.
func Name(file string) string {
	return strings.TrimSuffix(filepath.Base(file), ".txtar")
}

// ReadArchive parses the txtar archive file.
func ReadArchive(t testing.TB, file string) *txtar.Archive {
	t.Helper()
	a, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Section returns the data of the file called name in a, failing t if a
// has none.
func Section(t testing.TB, a *txtar.Archive, name string) string {
	t.Helper()
	s, ok := lookup(a, name)
	if !ok {
		t.Fatalf("no -- %s -- section", name)
	}
	return s
}

// Golden compares outputs, the sections a test produced, with the sections
// of the same names in a, the archive read from file, byte for byte. With
// -update it writes a back to file instead, its comment and other sections
// kept and outputs replacing (or following) those of the same names.
//
// A txtar section cannot end without a newline, so one is added to an
// output that lacks it before comparing or writing.
func Golden(t testing.TB, file string, a *txtar.Archive, outputs ...txtar.File) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, txtar.Format(merge(a, outputs)), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, out := range outputs {
		got := string(withNewline(out.Data))
		want, ok := lookup(a, out.Name)
		switch {
		case !ok:
			t.Errorf("%s has no -- %s -- section (run with -update to create it); got:\n%s", file, out.Name, got)
		case got != want:
			t.Errorf("-- %s -- differs from %s (run with -update to accept)\ngot:\n%s\nwant:\n%s", out.Name, file, got, want)
		}
	}
}

// merge returns a copy of a in which outputs replace the sections of the
// same names, or follow the others where a has none.
func merge(a *txtar.Archive, outputs []txtar.File) *txtar.Archive {
	m := &txtar.Archive{Comment: a.Comment, Files: append([]txtar.File(nil), a.Files...)}
next:
	for _, out := range outputs {
		out.Data = withNewline(out.Data)
		for i := range m.Files {
			if m.Files[i].Name == out.Name {
				m.Files[i] = out
				continue next
			}
		}
		m.Files = append(m.Files, out)
	}
	return m
}

func lookup(a *txtar.Archive, name string) (string, bool) {
	for _, f := range a.Files {
		if f.Name == name {
			return string(f.Data), true
		}
	}
	return "", false
}

func withNewline(b []byte) []byte {
	if len(b) > 0 && !bytes.HasSuffix(b, []byte("\n")) {
		return append(b[:len(b):len(b)], '\n')
	}
	return b
}
