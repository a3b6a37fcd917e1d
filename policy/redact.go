package policy

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// withheldSource stands in for a source whose secrets could not be masked
// with certainty: showing nothing is better than showing a password.
const withheldSource = "# the policy source is withheld: its secret parameters could not be masked\n"

// redactedScalar replaces a secret value in the source; quoted, because a
// plain [ would start a YAML list.
const redactedScalar = `"` + RedactedValue + `"`

// RedactedSource returns the policy's source with the value of every secret
// parameter (see IsSecretParam) replaced by RedactedValue, for anything
// people may read, such as the admin listener's GET /-/policy. Every other
// byte, comments and line numbers included, is kept when the values can be
// replaced in place, which covers single-line scalars; otherwise the YAML
// is re-rendered from its nodes, keeping comments but not blank lines. It
// is computed once, by Parse, so calling it parses nothing; callers must
// not modify the slice.
func (p *Policy) RedactedSource() []byte { return p.redacted }

// redact masks src, parsed as doc, at the positions of the secret values
// Parse loaded (loaded) and of every value whose key, aliases and merge
// keys resolved, names a secret parameter of any instruction: wherever the
// policy reads a secret from, and wherever one may stand in a rule that
// did not load. It may rewrite doc's nodes.
func redact(src []byte, doc *yaml.Node, loaded []*yaml.Node) []byte {
	secrets := secretValues(doc)
	for _, n := range loaded {
		if !slices.Contains(secrets, n) {
			secrets = append(secrets, n)
		}
	}
	if len(secrets) == 0 {
		return src
	}
	if out, err := spliceRedacted(src, secrets); err == nil && redactedAll(out, len(secrets)) {
		return out
	}
	for _, n := range secrets {
		n.Kind, n.Tag, n.Value, n.Style, n.Content = yaml.ScalarNode, "!!str", RedactedValue, yaml.DoubleQuotedStyle, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil || enc.Close() != nil || !redactedAll(buf.Bytes(), len(secrets)) {
		return []byte(withheldSource)
	}
	return buf.Bytes()
}

// secretSafe returns err, unless psp is secret: then an error that does
// not quote the value, since problems reach logs, validate's output and the
// reload endpoint's answer.
func secretSafe(psp *paramSpec, err error) error {
	if !psp.secret {
		return err
	}
	return errors.New("must be a non-empty string, such as a quoted number; the value is not shown, as it is secret")
}

// secretNames are the parameter names that are secret for some instruction.
func secretNames() []string {
	var out []string
	for _, spec := range instructions {
		for _, ps := range spec.params {
			if ps.secret && !slices.Contains(out, ps.name) {
				out = append(out, ps.name)
			}
		}
	}
	return out
}

// secretValues returns the value nodes of every mapping key in the document
// that names a secret parameter, keys and values resolved when written as
// aliases, each once. Merged mappings are in the tree, anchored or inline,
// so the walk reaches their keys too.
func secretValues(doc *yaml.Node) []*yaml.Node {
	names := secretNames()
	var out []*yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && slices.Contains(names, k.Value) {
					if v := resolve(n.Content[i+1]); !slices.Contains(out, v) {
						out = append(out, v)
					}
				}
			}
		}
		for _, c := range n.Content { // aliases are not followed: their targets are in the tree
			walk(c)
		}
	}
	walk(doc)
	return out
}

// redactedAll reports whether src parses and holds exactly want secret
// values, each RedactedValue.
func redactedAll(src []byte, want int) bool {
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil {
		return false
	}
	got := secretValues(&doc)
	for _, n := range got {
		if n.Kind != yaml.ScalarNode || n.Value != RedactedValue {
			return false
		}
	}
	return len(got) == want
}

// spliceRedacted replaces each secret scalar in src, found by its line and
// column, with redactedScalar. It fails on what it cannot delimit for
// certain (block and multi-line scalars, collections); the caller also
// checks the result by parsing it.
func spliceRedacted(src []byte, secrets []*yaml.Node) ([]byte, error) {
	type cut struct{ start, end int }
	var cuts []cut
	for _, n := range secrets {
		if n.Kind != yaml.ScalarNode {
			return nil, errors.New("a secret value is not a scalar")
		}
		start, err := offset(src, n.Line, n.Column)
		if err != nil {
			return nil, err
		}
		start = skipProperties(src, start)
		end, err := scalarEnd(src, start, n)
		if err != nil {
			return nil, err
		}
		cuts = append(cuts, cut{start, end})
	}
	slices.SortFunc(cuts, func(a, b cut) int { return b.start - a.start })
	out := slices.Clone(src)
	for i, c := range cuts {
		if i > 0 && c.end > cuts[i-1].start {
			return nil, errors.New("secret values overlap")
		}
		out = slices.Replace(out, c.start, c.end, []byte(redactedScalar)...)
	}
	return out, nil
}

// offset turns yaml.v3's 1-based line and column, counted in characters,
// into a byte offset of src.
func offset(src []byte, line, column int) (int, error) {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return 0, fmt.Errorf("line %d is past the end", line)
		}
		off += i + 1
	}
	for c := 1; c < column; c++ {
		if off >= len(src) || src[off] == '\n' {
			return 0, fmt.Errorf("column %d is past the end of line %d", column, line)
		}
		_, size := utf8.DecodeRune(src[off:])
		off += size
	}
	return off, nil
}

// skipProperties skips an anchor (&a) or tag (!!str) and the blanks after
// it, in case a node's position is that of its properties.
func skipProperties(src []byte, i int) int {
	for i < len(src) && (src[i] == '&' || src[i] == '!') {
		for i < len(src) && src[i] != ' ' && src[i] != '\t' && src[i] != '\n' {
			i++
		}
		for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
			i++
		}
	}
	return i
}

// scalarEnd returns the offset just past the single-line scalar n that
// starts at src[start].
func scalarEnd(src []byte, start int, n *yaml.Node) (int, error) {
	eol := bytes.IndexByte(src[start:], '\n')
	if eol < 0 {
		eol = len(src)
	} else {
		eol += start
	}
	line := src[start:eol]
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0 && len(line) > 0 && line[0] == '"':
		for i := 1; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '"':
				return start + i + 1, nil
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0 && len(line) > 0 && line[0] == '\'':
		for i := 1; i < len(line); i++ {
			if line[i] == '\'' {
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
					continue
				}
				return start + i + 1, nil
			}
		}
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0:
		// A plain scalar ends at a comment, or in a flow collection at
		// its separator; it is delimited for certain only if what is
		// cut out reads as its value.
		text := string(line)
		if i := strings.Index(text, " #"); i >= 0 {
			text = text[:i]
		}
		if t := strings.TrimRight(text, " \t\r"); t == n.Value {
			return start + len(t), nil
		}
		if i := strings.IndexAny(text, ",]}"); i >= 0 && strings.TrimRight(text[:i], " \t") == n.Value {
			return start + len(strings.TrimRight(text[:i], " \t")), nil
		}
	}
	return 0, fmt.Errorf("line %d: cannot delimit the value in place", n.Line)
}
