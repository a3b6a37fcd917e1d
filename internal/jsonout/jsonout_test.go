package jsonout

import "testing"

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
