package callback

import (
	"errors"
	"strings"
	"testing"
)

func TestSpecForm(t *testing.T) {
	captured := callbackForm(`{"tier":"gold"}`).Encode()
	for _, tc := range []struct {
		name    string
		spec    Spec
		want    map[string]string
		wantErr string
	}{
		{"attributes with placeholders", Spec{Task: `{"a":1}`, Worker: `{}`},
			map[string]string{"TaskAttributes": `{"a":1}`, "WorkerAttributes": `{}`, "ReservationSid": "WR" + placeholderSid, "TaskAge": "0"}, ""},
		{"captured, line end dropped", Spec{Captured: []byte(captured + "\r\n")},
			map[string]string{"TaskAttributes": `{"tier":"gold"}`, "ReservationSid": "WR77777777777777777777777777777777"}, ""},
		{"fields set on top, in order", Spec{Captured: []byte(captured), Set: []Field{{"TaskAge", "1"}, {"TaskAge", "2"}, {"WorkerName", "alice"}}},
			map[string]string{"TaskAge": "2", "WorkerName": "alice"}, ""},
		{"captured over the limits", Spec{Captured: []byte(captured + strings.Repeat("&x=1", MaxFormFields))}, nil, "more than 100 fields"},
		{"empty field name", Spec{Task: "{}", Worker: "{}", Set: []Field{{"", "x"}}}, nil, ErrEmptyFieldName.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form, err := tc.spec.Form()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got := form[k]; len(got) != 1 || got[0] != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if _, err := Parse(form); err != nil && !errors.Is(err, ErrEmptyFieldName) {
				t.Errorf("the built form does not parse: %v", err)
			}
		})
	}
}
