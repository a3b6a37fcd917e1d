package policytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const aliasPolicy = `version: 1
rules:
  - name: gold
    when: task.tier == "gold"
    instruction: accept
  - name: default
    instruction: reject
    params: {activity_sid: WA00000000000000000000000000000001}
`

func writeFiles(t *testing.T, test string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(aliasPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "policy_test.yaml")
	if err := os.WriteFile(path, []byte(test), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAliasedCases holds that a test file written with YAML aliases and
// merge keys loads the cases the aliases name, as the policy loader reads
// aliases, instead of empty ones that pass without checking anything.
func TestAliasedCases(t *testing.T) {
	path := writeFiles(t, `policy: policy.yaml
cases:
  - &gold {name: gold, task: {tier: gold}, expect: {rule: gold}}
  - &silver
    name: silver
    task: &silverTask {tier: silver}
    expect: &toDefault {rule: default, instruction: reject}
  - <<: *gold
    name: gold-again
  - {name: silver-again, task: *silverTask, expect: *toDefault}
  - <<: *silver
    name: wrong-on-purpose
    expect: {rule: gold}
`)
	f, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range f.Cases {
		names = append(names, c.Name)
		if c.Expect.Rule == "" {
			t.Errorf("case %q (line %d) expects nothing", c.Name, c.Line)
		}
	}
	if got := strings.Join(names, ","); got != "gold,silver,gold-again,silver-again,wrong-on-purpose" {
		t.Errorf("cases %s", got)
	}
	results := Run(f, nil, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, r := range results {
		if want := r.Case.Name != "wrong-on-purpose"; r.Passed() != want {
			t.Errorf("case %q passed %v, want %v: %v", r.Case.Name, r.Passed(), want, r.Failures)
		}
	}
}

// TestAliasedCaseRepeated holds that a case given as a bare alias is the
// case it names, not an empty case that passes: here a repeat, refused
// for its name as a written-out repeat would be.
func TestAliasedCaseRepeated(t *testing.T) {
	_, err := LoadFile(writeFiles(t, `policy: policy.yaml
cases:
  - &gold {name: gold, task: {tier: gold}, expect: {rule: gold}}
  - *gold
`))
	if err == nil || !strings.Contains(err.Error(), `cases[1].name: "gold" is already the name of the case on line 3`) {
		t.Fatalf("LoadFile = %v, want the repeated case refused by name", err)
	}
}

// TestAliasedCasesBudget holds that a test file's aliases are expanded
// within the policy loader's budget, and that one past it is refused.
func TestAliasedCasesBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("policy: policy.yaml\ncases:\n  - &c {name: \"" + strings.Repeat("x", 3000) + "\", task: {tier: gold}, expect: {rule: gold}}\n")
	for range 100_000 {
		b.WriteString("  - *c\n")
	}
	_, err := LoadFile(writeFiles(t, b.String()))
	if err == nil || !strings.Contains(err.Error(), "too large once its YAML aliases are expanded") {
		t.Fatalf("LoadFile = %.300v, want the expansion budget's error", err)
	}
}
