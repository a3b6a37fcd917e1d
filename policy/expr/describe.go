package expr

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// describeMax is the most bytes of a value an explanation shows.
const describeMax = 80

// describeJSON appends x as encoding/json writes it, stopping once b holds
// more than describeMax bytes: the caller shows only the first describeMax,
// so the rest of a large document is never encoded. An object's keys are
// listed in sorted order, as encoding/json writes them.
func describeJSON(b []byte, x any) []byte {
	if len(b) > describeMax {
		return b
	}
	switch v := x.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case float64:
		return append(b, formatJSONNumber(v)...)
	case json.Number:
		return append(b, prefix(v.String(), describeMax+1)...)
	case string:
		// Enough of the string that, encoded, it fills what is shown.
		js, _ := json.Marshal(prefix(v, describeMax+1-len(b)))
		return append(b, js...)
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if len(b) > describeMax {
				return b
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = describeJSON(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := firstKeys(v)
		b = append(b, '{')
		for i, k := range keys {
			if len(b) > describeMax {
				return b
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = describeJSON(b, k)
			b = append(b, ':')
			b = describeJSON(b, v[k])
		}
		if len(keys) < len(v) {
			return b // more than describeMax bytes were shown
		}
		return append(b, '}')
	}
	js, err := json.Marshal(x)
	if err != nil {
		return append(b, "?"...)
	}
	return append(b, js...)
}

// prefix returns at most n bytes of s, cut at a rune boundary.
func prefix(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// shownKeys is more keys than describeMax bytes can show: each takes at
// least four bytes ("":0).
const shownKeys = describeMax/4 + 1

// firstKeys returns, in order, the smallest shownKeys keys of m, in one
// pass and without sorting them all, since only these can be shown.
func firstKeys(m map[string]any) []string {
	keys := make([]string, 0, shownKeys)
	for k := range m {
		if len(keys) == shownKeys && k >= keys[shownKeys-1] {
			continue
		}
		i, _ := slices.BinarySearch(keys, k)
		if len(keys) < shownKeys {
			keys = slices.Insert(keys, i, k)
		} else {
			copy(keys[i+1:], keys[i:shownKeys-1])
			keys[i] = k
		}
	}
	return keys
}
