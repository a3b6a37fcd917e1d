package expr

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPlainDecimal holds how a template inserts a JSON number into text:
// plain decimal, exact, with a number without exponent kept as sent.
func TestPlainDecimal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"15", "15"},
		{"12345678901234567890", "12345678901234567890"},
		{"-7", "-7"},
		{"15.0", "15.0"},
		{"0.10", "0.10"},
		{"1.5e1", "15"},
		{"1e2", "100"},
		{"1E+2", "100"},
		{"2.5e-1", "0.25"},
		{"-1.50E+1", "-15"},
		{"-0.0e0", "0"},
		{"1.50e1", "15"},
		{"123.456e-5", "0.00123456"},
		{"12345678901234567890.0e0", "12345678901234567890"},
		{"1e300", "1" + strings.Repeat("0", 300)},
	}
	for _, tt := range tests {
		if got := plainDecimal(tt.in); got != tt.want {
			t.Errorf("plainDecimal(%s) = %s, want %s", tt.in, got, tt.want)
		}
		env := &Env{Task: map[string]any{"n": json.Number(tt.in)}}
		tmpl, err := CompileTemplate("ring {{task.n}}", false)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := tmpl.Render(env); err != nil || got != "ring "+tt.want {
			t.Errorf("rendering %s: %v, %v", tt.in, got, err)
		}
	}
	// Past the bound the number is inserted as sent: its float64 reading
	// would be another value (0, or infinity).
	for _, num := range []string{"1e99999", "1e-700", "123456789123456789e-420"} {
		if got := plainDecimal(num); got != num {
			t.Errorf("plainDecimal(%s) = %s, want it as sent", num, got)
		}
	}
}
