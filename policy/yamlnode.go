package policy

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Mapping checks that n, aliases resolved, is a YAML mapping with only the
// allowed keys (nil allows any), each once, and returns its values by key,
// aliases resolved. Keys written as aliases (*k: v) read as the scalar
// they name, and merge keys (<<: *base) add the keys of the mappings they
// name that the mapping does not set itself, as YAML's merge key type
// says. Each problem goes to bad with its line, the dotted field under
// field, and what is wrong. Policy files and policy test files both read
// their mappings with it, so that the two refuse alike.
func Mapping(n *yaml.Node, field string, allowed []string, bad func(line int, field, problem string)) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		bad(n.Line, field, "must be a mapping")
		return out
	}
	explicit := map[string]bool{}
	for _, p := range pairs(n, bad, field) {
		k, v := p.key, p.value
		key := joinField(field, k.Value)
		switch {
		case allowed != nil && !slices.Contains(allowed, k.Value):
			bad(k.Line, key, "unknown key; expected one of "+strings.Join(allowed, ", "))
		case explicit[k.Value] && !p.merged:
			bad(k.Line, key, "given twice")
		case out[k.Value] != nil:
			// A merged key the mapping, or an earlier merge, sets.
		default:
			out[k.Value] = v
		}
		if !p.merged {
			explicit[k.Value] = true
		}
	}
	return out
}

// Keys returns a mapping's keys in file order, its own before merged
// ones, aliases resolved, for problems listed in a deterministic order. A
// key written as an alias is returned with the alias's line.
func Keys(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	var out []*yaml.Node
	seen := map[string]bool{}
	if n.Kind == yaml.MappingNode {
		for _, p := range pairs(n, func(int, string, string) {}, "") {
			if !p.merged || !seen[p.key.Value] {
				out = append(out, p.key)
				seen[p.key.Value] = true
			}
		}
	}
	return out
}

// pair is one key and value of a mapping, aliases resolved.
type pair struct {
	key, value *yaml.Node
	// merged is set for a pair a merge key brought in.
	merged bool
}

// pairs returns the mapping's own pairs, then those its merge keys bring
// in, in order. A merge key's value must be a mapping or a list of
// mappings; anything else goes to bad.
func pairs(n *yaml.Node, bad func(line int, field, problem string), field string) []pair {
	var own, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if rk := resolve(k); rk != k {
			c := *rk
			c.Line, c.Column = k.Line, k.Column
			k = &c
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!merge" {
			own = append(own, pair{key: k, value: v})
			continue
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, src := range sources {
			if src = resolve(src); src.Kind != yaml.MappingNode {
				bad(k.Line, joinField(field, "<<"), "a merge key takes a mapping or a list of mappings")
				continue
			}
			for _, p := range pairs(src, bad, field) {
				merged = append(merged, pair{key: p.key, value: p.value, merged: true})
			}
		}
	}
	return append(own, merged...)
}

// Resolve follows aliases to the node they name, for readers of policy
// test files, which follow aliases as policy files do.
func Resolve(n *yaml.Node) *yaml.Node { return resolve(n) }

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

// MaxExpandedSize is the most a policy file, or a policy test file, may
// hold once its aliases are expanded, counting each node as one plus the
// bytes of its scalar: twice MaxFileSize, which a file without aliases
// never reaches, since each node takes at least one byte of the file and
// a scalar's value is no longer than how it is written. Without it a
// rule repeated by alias (- *r, 7 bytes each) would be compiled again for
// each alias, and load time and memory would grow with the alias count,
// not the file's size.
const MaxExpandedSize = 2 * MaxFileSize

// CheckExpansion returns an error when doc, aliases expanded, is larger
// than MaxExpandedSize. It visits each written node once, so it costs
// what the file's size does, however far its aliases expand.
func CheckExpansion(doc *yaml.Node) error {
	memo := map[*yaml.Node]int{}
	if expandedSize(doc, memo) > MaxExpandedSize {
		return fmt.Errorf("too large once its YAML aliases are expanded: more than %d nodes and scalar bytes, the limit (a file without aliases stays within it); write the repeated parts out, or use defaults", MaxExpandedSize)
	}
	return nil
}

// expandedSize is n's size with aliases expanded, capped just past
// MaxExpandedSize so that sums cannot overflow. A node being measured
// counts as over the limit, so an alias cycle is refused, not followed.
func expandedSize(n *yaml.Node, memo map[*yaml.Node]int) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.AliasNode {
		return expandedSize(n.Alias, memo)
	}
	if size, ok := memo[n]; ok {
		return size
	}
	memo[n] = MaxExpandedSize + 1
	size := 1 + len(n.Value)
	for _, c := range n.Content {
		if size += expandedSize(c, memo); size > MaxExpandedSize {
			size = MaxExpandedSize + 1
			break
		}
	}
	memo[n] = size
	return size
}
