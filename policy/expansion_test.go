package policy

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// aliasBomb is a policy whose rules list repeats one rule by alias, n
// times; the rule's condition is about 4 KB, so each 7-byte alias would
// cost a 4 KB compile.
func aliasBomb(n int) []byte {
	var b strings.Builder
	cond := "task.x == 1" + strings.Repeat(" OR task.x == 1", 250)
	b.WriteString("version: 1\nrules:\n  - &r {name: a, when: \"" + cond + "\", instruction: accept}\n")
	for range n {
		b.WriteString("  - *r\n")
	}
	b.WriteString("  - {name: default, instruction: accept}\n")
	return []byte(b.String())
}

// TestAliasAmplificationRefused holds the expansion budget: a rules list
// of - *r within the 1 MiB file limit is refused, quickly and with an
// error that names the budget, while the same rule written a few times by
// alias, and a 1 MiB file without aliases, are within it.
func TestAliasAmplificationRefused(t *testing.T) {
	src := aliasBomb(10_000)
	if len(src) > MaxFileSize {
		t.Fatalf("the bomb is %d bytes, past the file limit it must stay within", len(src))
	}
	_, err := Parse("bomb.yaml", src)
	if err == nil || !strings.Contains(err.Error(), "too large once its YAML aliases are expanded") {
		t.Fatalf("Parse = %v, want the expansion budget's error", err)
	}
	if strings.Count(err.Error(), "\n") > 1 {
		t.Errorf("the refusal is more than one problem:\n%v", err)
	}
	// A few aliases are fine (and then only the duplicate names are wrong).
	if _, err := Parse("few.yaml", aliasBomb(3)); err == nil || strings.Contains(err.Error(), "aliases are expanded") {
		t.Errorf("three aliases: %v", err)
	}
	// A file of the largest size without aliases is within the budget:
	// the densest, [a,a,...], is built as yaml.v3 would parse it (parsing
	// a 1 MiB flow list takes seconds).
	seq := &yaml.Node{Kind: yaml.SequenceNode, Content: make([]*yaml.Node, MaxFileSize/2)}
	a := &yaml.Node{Kind: yaml.ScalarNode, Value: "a"}
	for i := range seq.Content {
		seq.Content[i] = a // one node for all: each is counted where it stands
	}
	if err := CheckExpansion(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{seq}}); err != nil {
		t.Errorf("a 1 MiB file without aliases: %v", err)
	}
}

// BenchmarkAliasBombRefused shows that refusing the bomb costs what the
// file's size does, not what its aliases expand to.
func BenchmarkAliasBombRefused(b *testing.B) {
	src := aliasBomb(140_000)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse("bomb.yaml", src); err == nil {
			b.Fatal("loaded")
		}
	}
}
