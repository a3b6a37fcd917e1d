package deploy

import (
	"bytes"
	"os"
	"testing"

	"github.com/assignd/assignd/policy"
)

// TestPolicySchemaIsCurrent checks that the shipped schema is the one the
// binary generates from its parameter table, so editors check policies
// against what validate accepts.
func TestPolicySchemaIsCurrent(t *testing.T) {
	shipped, err := os.ReadFile("policy.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shipped, policy.Schema()) {
		t.Error("deploy/policy.schema.json differs from the generated schema; regenerate it: go run . schema > deploy/policy.schema.json")
	}
}
