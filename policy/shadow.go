package policy

import "slices"

// Difference is how a shadow policy's decision compares with the live one's.
type Difference string

// The outcomes Compare returns; they are the values of the outcome label of
// assignd_shadow_decisions_total.
const (
	// Same is the same instruction, mode and parameters: TaskRouter would be
	// told the same thing, whichever rule said it.
	Same Difference = "same"
	// Params is the same instruction and mode with other parameters.
	Params Difference = "params"
	// OtherInstruction is another instruction or another mode.
	OtherInstruction Difference = "instruction"
)

// Compare says how shadow differs from live in what TaskRouter would be
// told. Rule names are not compared: a renamed rule that says the same is
// Same. It allocates nothing, since it runs for every callback when a
// shadow policy is set.
func Compare(live, shadow *Decision) Difference {
	if live.Instruction.Name != shadow.Instruction.Name || live.Mode != shadow.Mode {
		return OtherInstruction
	}
	if !slices.EqualFunc(live.Instruction.Params, shadow.Instruction.Params, paramEqual) {
		return Params
	}
	return Same
}

// paramEqual compares two parameters; values are a string, bool, int or
// []string, as Param says.
func paramEqual(a, b Param) bool {
	if a.Name != b.Name {
		return false
	}
	if as, ok := a.Value.([]string); ok {
		bs, ok := b.Value.([]string)
		return ok && slices.Equal(as, bs)
	}
	if _, ok := b.Value.([]string); ok {
		return false
	}
	return a.Value == b.Value
}
