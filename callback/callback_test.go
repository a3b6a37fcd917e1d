package callback

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParseCallback(t *testing.T) {
	c, err := Parse(callbackForm(`{"tier":"gold","skills":["billing"],"n":1}`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Callback{
		AccountSid:       "AC11111111111111111111111111111111",
		WorkspaceSid:     "WS22222222222222222222222222222222",
		WorkflowSid:      "WW33333333333333333333333333333333",
		TaskQueueSid:     "WQ44444444444444444444444444444444",
		TaskSid:          "WT55555555555555555555555555555555",
		WorkerSid:        "WK66666666666666666666666666666666",
		ReservationSid:   "WR77777777777777777777777777777777",
		Timestamp:        "1764371000",
		TaskAge:          42,
		TaskPriority:     10,
		TaskAttributes:   map[string]any{"tier": "gold", "skills": []any{"billing"}, "n": json.Number("1")},
		WorkerAttributes: map[string]any{"contact_uri": "client:alice", "languages": []any{"en", "es"}, "level": json.Number("3")},
	}
	want.Fields = map[string]string{}
	for k, v := range callbackForm(`{"tier":"gold","skills":["billing"],"n":1}`) {
		want.Fields[k] = v[0]
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Parse =\n%#v\nwant\n%#v", c, want)
	}
}

func TestParseCallbackLenient(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(url.Values)
		check func(*testing.T, *Callback)
	}{
		{
			name: "unknown fields are kept",
			edit: func(f url.Values) { f.Set("WorkerName", "Doug"); f.Set("TimestampMs", "1764371000123") },
			check: func(t *testing.T, c *Callback) {
				if c.Fields["WorkerName"] != "Doug" || c.Fields["TimestampMs"] != "1764371000123" {
					t.Errorf("Fields = %v", c.Fields)
				}
			},
		},
		{
			name: "optional SIDs, age and priority absent",
			edit: func(f url.Values) {
				for _, k := range []string{"WorkflowSid", "TaskQueueSid", "TaskAge", "TaskPriority", "Timestamp"} {
					f.Del(k)
				}
			},
			check: func(t *testing.T, c *Callback) {
				if c.WorkflowSid != "" || c.TaskQueueSid != "" || c.TaskAge != 0 || c.TaskPriority != 0 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "empty attributes are empty objects",
			edit: func(f url.Values) { f.Set("TaskAttributes", ""); f.Set("WorkerAttributes", "") },
			check: func(t *testing.T, c *Callback) {
				if c.TaskAttributes == nil || len(c.TaskAttributes) != 0 || c.WorkerAttributes == nil || len(c.WorkerAttributes) != 0 {
					t.Errorf("attributes = %v, %v", c.TaskAttributes, c.WorkerAttributes)
				}
			},
		},
		{
			name: "upper-case hex SIDs",
			edit: func(f url.Values) { f.Set("TaskSid", "WT"+strings.Repeat("AB", 16)) },
			check: func(t *testing.T, c *Callback) {
				if c.TaskSid != "WT"+strings.Repeat("AB", 16) {
					t.Errorf("TaskSid = %q", c.TaskSid)
				}
			},
		},
		{
			name:  "attributes nested 64 deep",
			edit:  func(f url.Values) { f.Set("TaskAttributes", nested(63)) },
			check: func(t *testing.T, c *Callback) {},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := callbackForm(`{}`)
			tc.edit(f)
			c, err := Parse(f)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tc.check(t, c)
		})
	}
}

// nested returns a JSON object with n more objects nested inside it.
func nested(n int) string {
	return strings.Repeat(`{"a":`, n) + `{}` + strings.Repeat(`}`, n)
}

func TestParseCallbackErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(url.Values)
		field   string
		problem string // a substring
	}{
		{"missing AccountSid", func(f url.Values) { f.Del("AccountSid") }, "AccountSid", "is required"},
		{"empty ReservationSid", func(f url.Values) { f.Set("ReservationSid", "") }, "ReservationSid", "is required"},
		{"missing WorkerAttributes", func(f url.Values) { f.Del("WorkerAttributes") }, "WorkerAttributes", "is required"},
		{"wrong SID prefix", func(f url.Values) { f.Set("TaskSid", "WK55555555555555555555555555555555") }, "TaskSid", "does not match ^WT[0-9a-fA-F]{32}$"},
		{"short SID", func(f url.Values) { f.Set("WorkerSid", "WK123") }, "WorkerSid", "does not match"},
		{"non-hex SID", func(f url.Values) { f.Set("WorkspaceSid", "WS"+strings.Repeat("g", 32)) }, "WorkspaceSid", "does not match"},
		{"bad optional SID", func(f url.Values) { f.Set("TaskQueueSid", "WQ1") }, "TaskQueueSid", "does not match"},
		{"TaskAge not a number", func(f url.Values) { f.Set("TaskAge", "forty") }, "TaskAge", `non-negative integer, not "forty"`},
		{"TaskAge fractional", func(f url.Values) { f.Set("TaskAge", "4.5") }, "TaskAge", "non-negative integer"},
		{"TaskPriority negative", func(f url.Values) { f.Set("TaskPriority", "-1") }, "TaskPriority", "non-negative integer"},
		{"TaskPriority overflows", func(f url.Values) { f.Set("TaskPriority", "99999999999999999999") }, "TaskPriority", "non-negative integer"},
		{"attributes not JSON", func(f url.Values) { f.Set("TaskAttributes", `{"tier":`) }, "TaskAttributes", "not valid JSON"},
		{"attributes an array", func(f url.Values) { f.Set("TaskAttributes", `["gold"]`) }, "TaskAttributes", "must be a JSON object"},
		{"attributes a string", func(f url.Values) { f.Set("WorkerAttributes", `"alice"`) }, "WorkerAttributes", "must be a JSON object"},
		{"attributes null", func(f url.Values) { f.Set("WorkerAttributes", `null`) }, "WorkerAttributes", "must be a JSON object"},
		{"attributes with trailing data", func(f url.Values) { f.Set("TaskAttributes", `{} {}`) }, "TaskAttributes", "data after the JSON object"},
		{"attributes too deep", func(f url.Values) { f.Set("TaskAttributes", nested(64)) }, "TaskAttributes", "nested deeper than 64"},
		{"arrays count toward depth", func(f url.Values) {
			f.Set("WorkerAttributes", `{"a":`+strings.Repeat("[", 64)+strings.Repeat("]", 64)+`}`)
		}, "WorkerAttributes", "nested deeper than 64"},
		{"repeated field", func(f url.Values) { f.Add("TaskSid", "WT55555555555555555555555555555555") }, "TaskSid", "more than once"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := callbackForm(`{}`)
			tc.edit(f)
			_, err := Parse(f)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse error = %v, want a *FieldError", err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Problem, tc.problem) {
				t.Errorf("got %s, want field %s with problem containing %q", fe, tc.field, tc.problem)
			}
		})
	}
}

func TestCallbackInput(t *testing.T) {
	f := callbackForm(`{"tier":"gold"}`)
	f.Set("WorkerName", "Doug")
	c, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	in := c.Input(testClock)
	if !in.Now.Equal(testClock) {
		t.Errorf("Now = %v", in.Now)
	}
	if in.Task["tier"] != "gold" || in.Worker["contact_uri"] != "client:alice" {
		t.Errorf("Task = %v, Worker = %v", in.Task, in.Worker)
	}
	for k, want := range map[string]any{
		"TaskAge":        42.0,
		"TaskPriority":   10.0,
		"WorkerName":     "Doug",
		"TaskSid":        "WT55555555555555555555555555555555",
		"TaskAttributes": `{"tier":"gold"}`,
		"Timestamp":      "1764371000",
	} {
		if got := in.Callback[k]; got != want {
			t.Errorf("Callback[%s] = %#v, want %#v", k, got, want)
		}
	}
	// Absent counts are still numbers, so callback.TaskAge > 30 never meets a missing value.
	f.Del("TaskAge")
	c, _ = Parse(f)
	if got := c.Input(testClock).Callback["TaskAge"]; got != 0.0 {
		t.Errorf("absent TaskAge = %#v, want 0.0", got)
	}
}
