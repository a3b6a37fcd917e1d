package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Limits on the shape of non-test code, from the project's style rules: a
// file or a function past them is one a reader can no longer hold in mind,
// and a test keeps them true where a one-off check would not.
const (
	maxFileLines = 600
	maxFuncLines = 80
)

// TestCodeShape walks every non-test Go file in the module and fails on a
// file over maxFileLines lines or a function (declared or literal) over
// maxFuncLines.
func TestCodeShape(t *testing.T) {
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, p := range shapeProblems(fset, f) {
			t.Error(p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no Go files found")
	}
}

// shapeProblems lists what in f breaks the limits, as file:line: text.
func shapeProblems(fset *token.FileSet, f *ast.File) []string {
	var problems []string
	tf := fset.File(f.Pos())
	if n := tf.LineCount(); n > maxFileLines {
		problems = append(problems, tf.Name()+": "+plural(n, "line")+", over the limit of "+plural(maxFileLines, "line"))
	}
	ast.Inspect(f, func(n ast.Node) bool {
		var name string
		switch fn := n.(type) {
		case *ast.FuncDecl:
			name = "func " + fn.Name.Name
		case *ast.FuncLit:
			name = "func literal"
		default:
			return true
		}
		start, end := fset.Position(n.Pos()), fset.Position(n.End())
		if lines := end.Line - start.Line + 1; lines > maxFuncLines {
			problems = append(problems, start.String()+": "+name+" is "+plural(lines, "line")+" long, over the limit of "+plural(maxFuncLines, "line"))
		}
		return true
	})
	return problems
}

// TestShapeProblems checks that the checker itself can fail.
func TestShapeProblems(t *testing.T) {
	long := "package x\n\nfunc f() {\n" + strings.Repeat("\t_ = 1\n", maxFuncLines-2) + "}\n\nfunc g() {\n" + strings.Repeat("\t_ = 1\n", maxFuncLines-1) + "}\n"
	tests := []struct {
		name, src string
		want      []string // substrings, one per problem
	}{
		{"short", "package x\n\nfunc f() {}\n", nil},
		{"function at and over the limit", long, []string{"x.go:84:1: func g is 81 lines long"}},
		{"literal over the limit", "package x\n\nvar v = func() {\n" + strings.Repeat("\t_ = 1\n", maxFuncLines) + "}\n", []string{"func literal is 82 lines long"}},
		{"file over the limit", "package x\n" + strings.Repeat("\n", maxFileLines), []string{"x.go: 601 lines, over the limit of 600 lines"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x.go", tt.src, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := shapeProblems(fset, f)
			if len(got) != len(tt.want) {
				t.Fatalf("problems = %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// plural is n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
