package expr

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// describeWhole is how explanations described values before describeJSON:
// the whole value encoded, then cut.
func describeWhole(x any) string {
	b, _ := json.Marshal(x)
	if len(b) > describeMax {
		return string(b[:describeMax]) + "…"
	}
	return string(b)
}

// TestDescribeBounded holds that describing a value shows what encoding
// the whole value and cutting it showed, for values small and large.
func TestDescribeBounded(t *testing.T) {
	big := map[string]any{}
	for i := range 5000 {
		big[fmt.Sprintf("k%05d", i)] = []any{float64(i), "é<>&\"\\\n", true, nil, json.Number("12345678901234567890")}
	}
	values := []any{
		nil, true, 42.5, json.Number("7"),
		[]any{"a", 1.0, map[string]any{"z": 1.0, "a": []any{}}},
		map[string]any{},
		[]any{strings.Repeat("日本語", 2000)},
		[]any{strings.Repeat("\"", 500)},
		big,
		[]any{big},
		strings.Split(strings.Repeat("x,", 10000), ","),
	}
	for i, v := range values {
		if s, ok := v.([]string); ok {
			l := make([]any, len(s))
			for j := range s {
				l[j] = s[j]
			}
			v = l
		}
		if got, want := describe(v), describeWhole(v); got != want {
			t.Errorf("value %d: describe = %q, want %q", i, got, want)
		}
	}
	long := strings.Repeat("x", 100_000)
	if got := describe(long); len(got) > describeMax+10 || !strings.HasSuffix(got, "…") {
		t.Errorf("a long string is described as %d bytes", len(got))
	}
	if got := describe("short"); got != `"short"` {
		t.Errorf("describe(short) = %s", got)
	}
}

// BenchmarkWhyLargeAttribute shows that explaining a condition that reads
// a large attribute costs what the explanation's length does, not the
// attribute's size: ns/op stays flat from 1 KB to 1 MB.
func BenchmarkWhyLargeAttribute(b *testing.B) {
	e, err := Compile(`task.doc == "x" OR task.doc.a == 1 OR task.list == "x" OR task.text == "x"`)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		doc := map[string]any{}
		list := []any{}
		for i := 0; len(list)*12 < size; i++ {
			doc[fmt.Sprintf("k%07d", i)] = "v"
			list = append(list, fmt.Sprintf("item%07d", i))
		}
		env := &Env{Task: map[string]any{"doc": doc, "list": list, "text": strings.Repeat("t", size)}}
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			for b.Loop() {
				if e.Why(env) == "" {
					b.Fatal("true")
				}
			}
		})
	}
}
