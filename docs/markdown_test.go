package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// block is one fenced code block of a Markdown page.
type block struct {
	lang   string
	marker string // the HTML comment on the line before the fence, without <!-- -->
	start  int    // index of the first line inside the fence
	end    int    // index of the closing fence
	lines  []string
}

// page is a Markdown file split into lines, with its fenced blocks.
type page struct {
	path   string // relative to the repository root
	lines  []string
	blocks []block
}

var markerRE = regexp.MustCompile(`^<!--\s*(.*?)\s*-->$`)

// readPage reads a Markdown file (a path relative to the repository root).
func readPage(t *testing.T, rel string) *page {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	p := &page{path: rel, lines: strings.Split(string(raw), "\n")}
	for i := 0; i < len(p.lines); i++ {
		line := p.lines[i]
		if !strings.HasPrefix(line, "```") {
			continue
		}
		b := block{lang: strings.TrimPrefix(line, "```"), start: i + 1}
		for j := i - 1; j >= 0; j-- {
			if strings.TrimSpace(p.lines[j]) == "" {
				continue
			}
			if m := markerRE.FindStringSubmatch(strings.TrimSpace(p.lines[j])); m != nil {
				b.marker = m[1]
			}
			break
		}
		for i++; i < len(p.lines) && p.lines[i] != "```"; i++ {
			b.lines = append(b.lines, p.lines[i])
		}
		b.end = i
		p.blocks = append(p.blocks, b)
	}
	return p
}

// markerValue returns the value of "key: value" in a block's marker.
func (b block) markerValue(key string) (string, bool) {
	v, ok := strings.CutPrefix(b.marker, key+":")
	if !ok && b.marker == key {
		return "", true
	}
	return strings.TrimSpace(v), ok
}

// write puts the page back, for -update.
func (p *page) write(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, p.path), []byte(strings.Join(p.lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pages lists the README and every page under docs/ (reference included).
func pages(t *testing.T) []string {
	t.Helper()
	out := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			rel, _ := filepath.Rel(root, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// workDir returns a new directory holding the page's file blocks (those
// marked <!-- file: NAME -->), where its examples run.
func (p *page) workDir(t *testing.T) string {
	t.Helper()
	work := t.TempDir()
	for _, b := range p.blocks {
		if name, ok := b.markerValue("file"); ok {
			if err := os.WriteFile(filepath.Join(work, name), []byte(strings.Join(b.lines, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return work
}
