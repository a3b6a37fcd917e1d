package app

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/assignd/assignd/config"
)

func TestCheckDecisionMemory(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries int
		limit   int64
		want    string // "" for accepted
	}{
		{"no GOMEMLIMIT", 10_000_000, math.MaxInt64, ""},
		{"fits a quarter", 100_000, 230 << 20, ""},
		{"a million in 256Mi", 1_000_000, 256 << 20,
			"ASSIGND_DECISION_MEMORY: 1000000 entries need up to 382MiB (400 bytes each), more than 1/4 of GOMEMLIMIT (256MiB): set it to at most 167772, or GOMEMLIMIT to at least 1526MiB"},
		{"just over", 167_773, 256 << 20, "set it to at most 167772"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkDecisionMemory(tc.entries, tc.limit)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// TestNewRefusesDecisionMemoryBeyondLimit starts the app under a 256 MiB
// GOMEMLIMIT with a million-entry decision memory, which would fill past
// it, and with the shipped default, which fits.
func TestNewRefusesDecisionMemoryBeyondLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(256 << 20))
	cfg := testConfig()
	cfg.Dev = true
	cfg.DecisionMemory = 1_000_000
	if _, err := New(Options{Config: cfg}); err == nil || !strings.Contains(err.Error(), "ASSIGND_DECISION_MEMORY") {
		t.Fatalf("New = %v, want the decision memory refused", err)
	}
}

// TestShippedDecisionMemoryFits checks the default ASSIGND_DECISION_MEMORY
// against the GOMEMLIMIT the shipped Deployment sets.
func TestShippedDecisionMemoryFits(t *testing.T) {
	f, _ := reflect.TypeFor[config.Config]().FieldByName("DecisionMemory")
	def, err := strconv.Atoi(f.Tag.Get("default"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "deploy", "kubernetes", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// GOMEMLIMIT is the container's memory limit, through the downward
	// API; the deploy tests hold that.
	if !regexp.MustCompile(`name: GOMEMLIMIT\s+valueFrom:\s+resourceFieldRef:\s+resource: limits.memory`).Match(b) {
		t.Fatal("the Deployment's GOMEMLIMIT is not its memory limit")
	}
	m := regexp.MustCompile(`limits:\s+cpu: "?\w+"?\s+memory: (\d+)Mi`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the Deployment sets no memory limit in Mi")
	}
	mb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	if err := checkDecisionMemory(def, mb<<20); err != nil {
		t.Errorf("the shipped default does not fit the shipped limit: %v", err)
	}
}
