package jsonout

import (
	"bytes"
	"testing"
)

func TestIndented(t *testing.T) {
	got := string(Indented(map[string]any{"url": "https://x.example/a?b=1&c=<2>", "n": 1}))
	want := "{\n  \"n\": 1,\n  \"url\": \"https://x.example/a?b=1&c=<2>\"\n}\n"
	if got != want {
		t.Errorf("Indented = %q, want %q", got, want)
	}
}

func TestIndentedPanicsOnUnencodable(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a channel")
		}
	}()
	Indented(make(chan int))
}

// trickyStrings need every escape encoding/json writes.
var trickyStrings = []string{
	"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "café …", "line\u2028para\u2029", "bad \xff\xfe utf8", "\xe2\x82", "emoji 🙂",
}

// FuzzAppendString: any string is quoted as encoding/json quotes it, HTML
// characters unescaped, as Indented writes it.
func FuzzAppendString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := bytes.TrimSuffix(Indented(s), []byte("\n"))
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	})
}
