package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// manyRules is a policy of n rules, each with a condition to compile.
func manyRules(n int) string {
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: r%d\n    when: task.tier == \"t%d\" AND task.level > %d\n    instruction: accept\n", i, i, i)
	}
	b.WriteString("  - name: default\n    instruction: accept\n")
	return b.String()
}

// storeWith writes a policy of n rules to a file and loads it in a Store.
func storeWith(tb testing.TB, n int) (*Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(manyRules(n)), 0o600); err != nil {
		tb.Fatal(err)
	}
	s, err := NewStore(zap.NewNop(), prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	if changed, err := s.LoadFile(path); err != nil || !changed {
		tb.Fatalf("first load: %v %v", changed, err)
	}
	return s, path
}

// TestReloadUnchangedSkipsParse reloads an unchanged 2,000-rule file: the
// bytes are compared before parsing, so the reload allocates what reading
// the file takes (a few buffers), not the thousands of values a parse of
// 2,000 rules builds.
func TestReloadUnchangedSkipsParse(t *testing.T) {
	s, path := storeWith(t, 2000)
	before := s.Current()
	allocs := testing.AllocsPerRun(5, func() {
		if changed, err := s.LoadFile(path); err != nil || changed {
			t.Fatalf("unchanged reload: %v %v", changed, err)
		}
	})
	if s.Current() != before {
		t.Errorf("an unchanged reload swapped the policy")
	}
	if allocs > 200 {
		t.Errorf("an unchanged reload of 2,000 rules made %v allocations, want at most 200 (a parse makes tens of thousands)", allocs)
	}
}

// BenchmarkReloadUnchanged reloads unchanged files of growing size: the
// cost per reload grows with the file's bytes (a read and a comparison),
// linearly and without a parse.
func BenchmarkReloadUnchanged(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			s, path := storeWith(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.LoadFile(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
