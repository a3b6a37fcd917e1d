package policy

import (
	_ "embed"
	"slices"
)

// ExampleName is the file name the embedded example policy is parsed under.
const ExampleName = "example-policy.yaml"

//go:embed example-policy.yaml
var example []byte

// Example returns the source of the embedded example policy, which serve
// runs when no policy file is given.
func Example() []byte { return slices.Clone(example) }
