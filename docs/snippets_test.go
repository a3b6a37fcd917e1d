package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestPolicySnippets validates every yaml block of the README and docs/
// with assignd validate, in a directory holding the page's file blocks;
// a block that is deliberately not a whole policy says so with
// <!-- partial: why -->.
func TestPolicySnippets(t *testing.T) {
	var checked, partial int
	for _, rel := range pages(t) {
		p := readPage(t, rel)
		work := p.workDir(t)
		for i, b := range p.blocks {
			if b.lang != "yaml" {
				continue
			}
			if why, ok := b.markerValue("partial"); ok {
				if why == "" {
					t.Errorf("%s:%d: partial needs a reason", rel, b.start)
				}
				partial++
				continue
			}
			name, ok := b.markerValue("file")
			if !ok {
				name = "snippet-" + strings.ReplaceAll(filepath.Base(rel), ".", "-") + "-" + strconv.Itoa(i) + ".yaml"
				if err := os.WriteFile(filepath.Join(work, name), []byte(strings.Join(b.lines, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out, code := run(t, work, "assignd validate "+name)
			if code != 0 {
				t.Errorf("%s:%d: the policy snippet does not validate (mark it <!-- partial: why --> if it is not a whole policy):\n%s", rel, b.start, out)
			}
			checked++
		}
	}
	t.Logf("%d policy snippets validated, %d marked partial", checked, partial)
}

var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestRelativeLinks checks that every relative link of the README and
// docs/ names a file that exists and, with #anchor, a heading of it.
func TestRelativeLinks(t *testing.T) {
	for _, rel := range pages(t) {
		p := readPage(t, rel)
		inFence := false
		for n, line := range p.lines {
			if strings.HasPrefix(line, "```") {
				inFence = !inFence
			}
			if inFence {
				continue
			}
			for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				file, anchor, _ := strings.Cut(target, "#")
				path := rel
				if file != "" {
					path = filepath.ToSlash(filepath.Join(filepath.Dir(rel), file))
				}
				if _, err := os.Stat(filepath.Join(root, path)); err != nil {
					t.Errorf("%s:%d: link %q: %s does not exist", rel, n+1, target, path)
					continue
				}
				if anchor != "" && strings.HasSuffix(path, ".md") && !anchors(t, path)[anchor] {
					t.Errorf("%s:%d: link %q: %s has no heading #%s", rel, n+1, target, path, anchor)
				}
			}
		}
	}
}

// anchors returns the GitHub anchors of a page's headings.
func anchors(t *testing.T, rel string) map[string]bool {
	p := readPage(t, rel)
	out := map[string]bool{}
	inFence := false
	for _, line := range p.lines {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(line, "#"))
		out[slug(h)] = true
	}
	return out
}

// slug is GitHub's heading anchor: lower case, punctuation dropped,
// spaces to hyphens.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestREADMECommands pins the README's two commands, exactly, each in a
// sh block of its own: the dev-mode serve on the embedded example and the
// test run CI makes (.ci/run runs the same line).
func TestREADMECommands(t *testing.T) {
	p := readPage(t, "README.md")
	for _, want := range []string{"ASSIGND_DEV=true go run . serve", "go test -race ./..."} {
		found := false
		for _, b := range p.blocks {
			if b.lang == "sh" && len(b.lines) == 1 && b.lines[0] == want {
				found = true
			}
		}
		if !found {
			t.Errorf("README.md has no sh block holding exactly %q", want)
		}
	}
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), "\ngo test -race ./...\n") {
		t.Error(".ci/run does not run the README's go test -race ./...")
	}
}

// TestCodeMap: architecture.md's code map lists every package of the
// module once, each below every package of the module it imports.
func TestCodeMap(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/assignd/assignd"
	short := func(path string) string {
		if path == module {
			return "."
		}
		return strings.TrimPrefix(path, module+"/")
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := short(fields[0])
		imports[pkg] = nil
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, module) {
				imports[pkg] = append(imports[pkg], short(imp))
			}
		}
	}
	p := readPage(t, "docs/architecture.md")
	row := map[string]int{}
	for _, line := range p.lines {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		name := strings.Trim(strings.Fields(strings.TrimPrefix(line, "| "))[0], "`")
		if _, dup := row[name]; dup {
			t.Errorf("the code map lists %s twice", name)
		}
		row[name] = len(row)
	}
	for pkg, imps := range imports {
		at, ok := row[pkg]
		if !ok {
			t.Errorf("the code map lacks package %s", pkg)
			continue
		}
		for _, imp := range imps {
			if r, ok := row[imp]; ok && r > at {
				t.Errorf("the code map lists %s above %s, which it imports", pkg, imp)
			}
		}
	}
	for name := range row {
		if _, ok := imports[name]; !ok {
			t.Errorf("the code map lists %s, which is not a package of the module", name)
		}
	}
}
