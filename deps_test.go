package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestPackageDependencies keeps the layout's promises, counting every
// package a package pulls in, not only its own imports: the inbound edge
// never brings twilio-go's REST client (it hands updates over through
// reservation/handoff), and the policy language brings neither Echo nor
// twilio-go.
func TestPackageDependencies(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, tc := range []struct {
		pkg       string
		forbidden []string
	}{
		{"./handlers", []string{"github.com/twilio/twilio-go/rest/"}},
		{"./policy", []string{"github.com/labstack/echo", "github.com/twilio/twilio-go"}},
		{"./policy/expr", []string{"github.com/labstack/echo", "github.com/twilio/twilio-go"}},
	} {
		t.Run(tc.pkg, func(t *testing.T) {
			out, err := exec.Command(goBin, "list", "-deps", tc.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", tc.pkg, err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				for _, f := range tc.forbidden {
					if strings.HasPrefix(dep, f) {
						t.Errorf("%s depends on %s", tc.pkg, dep)
					}
				}
			}
		})
	}
}
