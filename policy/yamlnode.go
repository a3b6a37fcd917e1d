package policy

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Mapping checks that n, aliases resolved, is a YAML mapping with only the
// allowed keys (nil allows any), each once, and returns its values by key,
// aliases resolved. Each problem goes to bad with its line, the dotted
// field under field, and what is wrong. Policy files and policy test files
// both read their mappings with it, so that the two refuse alike.
func Mapping(n *yaml.Node, field string, allowed []string, bad func(line int, field, problem string)) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		bad(n.Line, field, "must be a mapping")
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		key := joinField(field, k.Value)
		switch {
		case allowed != nil && !slices.Contains(allowed, k.Value):
			bad(k.Line, key, "unknown key; expected one of "+strings.Join(allowed, ", "))
		case out[k.Value] != nil:
			bad(k.Line, key, "given twice")
		default:
			out[k.Value] = v
		}
	}
	return out
}

// Keys returns a mapping's keys in file order, aliases resolved, for
// problems listed in a deterministic order.
func Keys(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	var out []*yaml.Node
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, n.Content[i])
		}
	}
	return out
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func joinField(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
