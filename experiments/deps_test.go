package experiments

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestDependencies keeps the package's promise: the report, its handler
// and its CLI pull in neither the listeners nor an HTTP framework nor
// Twilio's client, so that any listener or command can serve them.
func TestDependencies(t *testing.T) {
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range []string{"github.com/labstack/echo", "github.com/twilio/twilio-go", "github.com/assignd/assignd/handlers", "github.com/assignd/assignd/callback"} {
			if strings.HasPrefix(dep, f) {
				t.Errorf("experiments depends on %s", dep)
			}
		}
	}
}
