package callback

import (
	"maps"
	"testing"
)

// TestCheckRecut refuses names that extend or shorten a field TaskRouter
// sends, and a missing required field, while undocumented fields pass.
func TestCheckRecut(t *testing.T) {
	base := map[string]string{}
	for _, f := range AssignmentFields {
		base[f] = "x"
	}
	cases := []struct {
		name     string
		edit     func(map[string]string)
		required []string
		field    string // "" for no problem
	}{
		{"complete", func(map[string]string) {}, AssignmentFields, ""},
		{"undocumented fields pass", func(m map[string]string) {
			m["WorkerName"], m["TimestampMs"], m["TaskChannelUniqueName"] = "a", "1", "voice"
		}, AssignmentFields, ""},
		{"TaskAge7", func(m map[string]string) { delete(m, "TaskAge"); m["TaskAge7"] = "5" }, nil, "TaskAge7"},
		{"TaskPriority1", func(m map[string]string) { m["TaskPriority1"] = "0" }, nil, "TaskPriority1"},
		{"TaskAg", func(m map[string]string) { delete(m, "TaskAge"); m["TaskAg"] = "e75" }, nil, "TaskAg"},
		{"TimestampM", func(m map[string]string) { m["TimestampM"] = "s1" }, nil, "TimestampM"},
		{"missing TaskAge", func(m map[string]string) { delete(m, "TaskAge") }, AssignmentFields, "TaskAge"},
		{"missing TaskAge, not required", func(m map[string]string) { delete(m, "TaskAge") }, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := maps.Clone(base)
			c.edit(m)
			err := CheckRecut(m, c.required)
			fe, _ := err.(*FieldError)
			switch {
			case c.field == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.field != "" && (fe == nil || fe.Field != c.field):
				t.Errorf("got %v, want a problem with %s", err, c.field)
			}
		})
	}
}
