package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The module's path, and the packages the dependency promises name.
const (
	module    = "github.com/assignd/assignd"
	echoPkg   = "github.com/labstack/echo"
	twilioPkg = "github.com/twilio/twilio-go"
	restPkg   = "github.com/twilio/twilio-go/rest/"
)

// TestPackageDependencies keeps the layout's promises, counting every
// package a package pulls in, not only its own imports: the callback
// format knows no web framework and no Twilio client; neither listener
// brings twilio-go; only reservation/twilio brings its REST packages; the
// policy language and the tools built on it bring neither listener; and
// only the lifecycle (app) builds the listeners.
func TestPackageDependencies(t *testing.T) {
	deps := listDeps(t)
	for _, tc := range []struct {
		pkg       string
		forbidden []string
	}{
		{"callback", []string{echoPkg, twilioPkg}},
		{"handlers", []string{twilioPkg}},
		{"admin", []string{twilioPkg}},
		{"policy", []string{echoPkg, twilioPkg, module + "/handlers", module + "/admin"}},
		{"policy/expr", []string{echoPkg, twilioPkg}},
		{"policytest", []string{module + "/handlers", module + "/admin"}},
		{"shadow", []string{module + "/handlers", module + "/admin"}},
		{"outcome", []string{module + "/handlers", module + "/admin"}},
		{"cli", []string{module + "/handlers", module + "/admin"}},
	} {
		for _, dep := range deps[module+"/"+tc.pkg] {
			for _, f := range tc.forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") || strings.HasSuffix(f, "/") && strings.HasPrefix(dep, f) {
					t.Errorf("%s depends on %s", tc.pkg, dep)
				}
			}
		}
	}
	for pkg, ds := range deps {
		for _, dep := range ds {
			if strings.HasPrefix(dep, restPkg) && pkg != module+"/reservation/twilio" && !importsDirectly(deps, pkg, module+"/reservation/twilio") {
				t.Errorf("%s depends on %s other than through reservation/twilio", pkg, dep)
			}
		}
	}
	for pkg, imports := range directImports(t) {
		for _, imp := range imports {
			if (imp == module+"/handlers" || imp == module+"/admin") && pkg != module+"/app" {
				t.Errorf("%s imports %s: only app builds the listeners", pkg, imp)
			}
		}
	}
}

// importsDirectly reports whether pkg depends on dep.
func importsDirectly(deps map[string][]string, pkg, dep string) bool {
	for _, d := range deps[pkg] {
		if d == dep {
			return true
		}
	}
	return false
}

// listDeps is every package of the module, non-test files only, with
// every package it pulls in.
func listDeps(t *testing.T) map[string][]string {
	return goList(t, "-deps", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`)
}

// directImports is every package of the module with its own imports.
func directImports(t *testing.T) map[string][]string {
	return goList(t, "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`)
}

// goList runs go list over the module with args and reads one package a
// line: its path, then what the template lists.
func goList(t *testing.T, args ...string) map[string][]string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, append(append([]string{"list"}, args...), "./...")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], module) {
			m[f[0]] = f[1:]
		}
	}
	return m
}
