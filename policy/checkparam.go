package policy

import (
	"fmt"
	"strings"
)

// CheckParam checks a value for the named parameter of an instruction as
// Parse checks a literal in a policy file, and returns it in the type a
// Decision's parameter holds: string, bool, int or []string. Policy tests use
// it to compare an expected value with a decided one.
func CheckParam(instruction, name string, v any) (any, error) {
	is, ok := instructions[instruction]
	if !ok {
		return nil, fmt.Errorf("%q is not one of %s", instruction, strings.Join(InstructionNames(), ", "))
	}
	ps := is.lookup(name)
	if ps == nil {
		if len(is.params) == 0 {
			return nil, fmt.Errorf("%s takes no parameters", instruction)
		}
		return nil, fmt.Errorf("unknown parameter for %s; known: %s", instruction, strings.Join(is.names(), ", "))
	}
	return ps.check(v)
}
