package expr

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestTemplateRender(t *testing.T) {
	env := testEnv(t)
	env.Task["url_unsafe"] = "a b&c=d/é?#"
	env.Task["big"] = 12345678901.0
	env.Task["frac"] = 0.000001
	env.Task["tenant"] = "../../admin"
	// attributes decoded with UseNumber keep their text.
	env.Task["account"] = json.Number("12345678901234567890")
	env.Task["ratio"] = json.Number("0.10")
	tests := []struct {
		name  string
		src   string
		isURL bool
		want  any
	}{
		// A whole-string placeholder keeps the JSON type.
		{"typed string", `{{task.language}}`, false, "en"},
		{"typed number", `{{task.age}}`, false, 42.0},
		{"typed bool", `{{task.vip}}`, false, true},
		{"typed false", `{{task.off}}`, false, false},
		{"typed array", `{{task.skills}}`, false, []any{"support", "billing"}},
		{"typed object", `{{task.object.nested}}`, false, map[string]any{"deep": []any{map[string]any{"x": 1.0}}}},
		{"typed with spaces", `{{  worker.contact_uri }}`, false, "client:alice"},
		{"typed now hour", `{{now.hour}}`, false, 14.0},
		{"typed now weekday", `{{now.weekday}}`, false, "Tue"},
		{"typed callback", `{{callback.TaskSid}}`, false, "WT123"},
		{"typed index", `{{task.object.array[1]}}`, false, "b"},

		// Embedded placeholders produce text.
		{"literal", `hello`, false, "hello"},
		{"empty literal", ``, false, ""},
		{"literal braces", `{ not } a {placeholder}`, false, "{ not } a {placeholder}"},
		{"embedded string", `lang={{task.language}}!`, false, "lang=en!"},
		{"two placeholders", `{{task.language}}-{{worker.id}}`, false, "en-W1"},
		{"adjacent", `{{task.language}}{{task.language}}`, false, "enen"},
		{"leading space makes text", ` {{task.age}}`, false, " 42"},
		{"integer formatting", `n={{task.age}}`, false, "n=42"},
		{"large number not exponent", `n={{task.big}}`, false, "n=12345678901"},
		{"small number not exponent", `n={{task.frac}}`, false, "n=0.000001"},
		{"float formatting", `s={{task.score}}`, false, "s=5.1"},
		{"large integer exact", `acct={{task.account}}`, false, "acct=12345678901234567890"},
		{"large integer exact in a url query", `https://h/x?acct={{task.account}}`, true, "https://h/x?acct=12345678901234567890"},
		{"large integer exact in a url path", `https://h/acct/{{task.account}}`, true, "https://h/acct/12345678901234567890"},
		{"json number as written", `r={{task.ratio}}`, false, "r=0.10"},
		{"typed json number", `{{task.account}}`, false, json.Number("12345678901234567890")},
		{"bool formatting", `{{task.vip}}/{{task.off}}`, false, "true/false"},
		{"now minute text", `{{now.hour}}:{{now.minute}}`, false, "14:5"},
		{"string not escaped outside url", `x={{task.url_unsafe}}`, false, "x=a b&c=d/é?#"},

		// URLs: path-escape as one segment before the first "?",
		// query-escape after it.
		{"url path escaped as a segment", `https://h/{{task.url_unsafe}}`, true, "https://h/a%20b&c=d%2F%C3%A9%3F%23"},
		{"url path traversal stays in its segment", `https://h/tenants/{{task.tenant}}/ivr`, true, "https://h/tenants/..%2F..%2Fadmin/ivr"},
		{"url query escaped", `https://h/x?q={{task.url_unsafe}}`, true, "https://h/x?q=a+b%26c%3Dd%2F%C3%A9%3F%23"},
		{"url path and query", `https://h/{{task.language}}?a={{worker.contact_uri}}&b={{task.age}}`, true, "https://h/en?a=client%3Aalice&b=42"},
		{"question mark from a value does not start the query", `https://h/{{task.url_unsafe}}/{{task.url_unsafe}}`, true, "https://h/a%20b&c=d%2F%C3%A9%3F%23/a%20b&c=d%2F%C3%A9%3F%23"},
		{"fragment is query-escaped", `https://h/x#{{task.url_unsafe}}`, true, "https://h/x#a+b%26c%3Dd%2F%C3%A9%3F%23"},
		{"user info before the host is literal", `https://u@h/{{task.language}}`, true, "https://u@h/en"},
		{"question mark in earlier literal", `https://h?x=1/{{task.language}}`, true, "https://h?x=1/en"},
		{"not a url keeps text", `https://h/x?q={{task.url_unsafe}}`, false, "https://h/x?q=a b&c=d/é?#"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := CompileTemplate(tt.src, tt.isURL)
			if err != nil {
				t.Fatalf("CompileTemplate(%q): %v", tt.src, err)
			}
			got, err := tmpl.Render(env)
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.src, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Render(%q) = %#v, want %#v", tt.src, got, tt.want)
			}
			if tmpl.Source() != tt.src {
				t.Errorf("Source() = %q, want %q", tmpl.Source(), tt.src)
			}
			if lit := !strings.Contains(tt.src, "{{"); tmpl.IsLiteral() != lit {
				t.Errorf("IsLiteral(%q) = %v, want %v", tt.src, tmpl.IsLiteral(), lit)
			}
		})
	}
}

func TestTemplateRenderErrors(t *testing.T) {
	env := testEnv(t)
	tests := []struct {
		name    string
		src     string
		missing string // the MissingError's Ref, or "" for another error
		msg     string
	}{
		{"missing whole", `{{task.nope}}`, "task.nope", "task.nope is missing"},
		{"null whole", `{{task.nullv}}`, "task.nullv", "task.nullv is missing"},
		{"missing embedded", `x={{task.a.b}}`, "task.a.b", "task.a.b is missing"},
		{"index out of range", `{{task.object.array[9]}}`, "task.object.array[9]", "task.object.array[9] is missing"},
		{"missing second", `{{task.language}}/{{worker.nope}}`, "worker.nope", "worker.nope is missing"},
		{"array embedded", `skills: {{task.skills}}`, "", "task.skills is an array; only a string, number or boolean can be inserted into text"},
		{"object embedded", `{{task.object}}!`, "", "task.object is an object; only a string, number or boolean can be inserted into text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := CompileTemplate(tt.src, false)
			if err != nil {
				t.Fatalf("CompileTemplate(%q): %v", tt.src, err)
			}
			got, err := tmpl.Render(env)
			if err == nil {
				t.Fatalf("Render(%q) = %#v, want an error", tt.src, got)
			}
			if err.Error() != tt.msg {
				t.Errorf("error = %q, want %q", err, tt.msg)
			}
			var me *MissingError
			if isMissing := errors.As(err, &me); isMissing != (tt.missing != "") {
				t.Errorf("error %v: MissingError = %v, want %v", err, isMissing, tt.missing != "")
			} else if isMissing && me.Ref != tt.missing {
				t.Errorf("MissingError.Ref = %q, want %q", me.Ref, tt.missing)
			}
		})
	}
	// A nil env has nothing to render from.
	tmpl, err := CompileTemplate("{{task.x}}", false)
	if err != nil {
		t.Fatal(err)
	}
	var me *MissingError
	if _, err := tmpl.Render(nil); !errors.As(err, &me) {
		t.Errorf("Render(nil) error = %v, want a *MissingError", err)
	}
}

func TestTemplateCompileErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`{{task.}}`, `placeholder 1 "{{task.}}": expected a key after "."`},
		{`a {{task.x}} b {{task.}}`, `placeholder 2 "{{task.}}": expected a key after "."`},
		{`{{task.x`, `placeholder 1 "{{task.x": missing "}}"`},
		{`{{task.x}} {{`, `placeholder 2 "{{": missing "}}"`},
		{`{{task.x}`, `placeholder 1 "{{task.x}": missing "}}"`},
		{`{{}}`, `placeholder 1 "{{}}": empty placeholder; write a reference such as {{task.key}}`},
		{`{{   }}`, `placeholder 1 "{{   }}": empty placeholder; write a reference such as {{task.key}}`},
		{`{{taskrouter.hour}}`, `placeholder 1 "{{taskrouter.hour}}": unknown taskrouter.hour; taskrouter has only taskrouter.currentTime, taskrouter.currentHour, taskrouter.currentMin and taskrouter.dayOfWeek`},
		{`{{task}}`, `placeholder 1 "{{task}}": expected "." and a key after "task"`},
		{`{{now.year}}`, `placeholder 1 "{{now.year}}": unknown now.year; now has only now.hour, now.minute and now.weekday`},
		{`{{task.x == 1}}`, `placeholder 1 "{{task.x == 1}}": unexpected "==" after "task.x"`},
		{`{{task.a[x]}}`, `placeholder 1 "{{task.a[x]}}": expected an array index (a non-negative integer) after "[", found "x"`},
		{`{{"x"}}`, `placeholder 1 "{{\"x\"}}": expected a reference such as task.key, found "x"`},
		{`{{task.first-name}}`, `placeholder 1 "{{task.first-name}}": unexpected "-"; hyphens are not supported in expressions`},
	}
	for _, tt := range tests {
		tmpl, err := CompileTemplate(tt.src, false)
		if err == nil {
			t.Errorf("CompileTemplate(%q) succeeded (%d parts), want an error", tt.src, len(tmpl.parts))
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("CompileTemplate(%q) error =\n%s\nwant\n%s", tt.src, err, tt.want)
		}
	}
}

// TestTemplateURLOrigin: no placeholder may stand
// in a URL's scheme, user info, host or port, where a value such as
// "evil.example/x?" would move the request to another host.
func TestTemplateURLOrigin(t *testing.T) {
	const msg = `: not allowed in the scheme, host or port of a URL, where a value could send the request elsewhere; write the origin literally (https://host/) and use placeholders in the path or query`
	tests := []struct{ name, src, want string }{
		{"whole value", `{{task.url}}`, `placeholder 1 "{{task.url}}"` + msg},
		{"host", `https://{{task.tenant}}.twiml.example.com/x`, `placeholder 1 "{{task.tenant}}"` + msg},
		{"port", `https://h:{{task.port}}/x`, `placeholder 1 "{{task.port}}"` + msg},
		{"scheme", `{{task.scheme}}://h/x`, `placeholder 1 "{{task.scheme}}"` + msg},
		{"user info", `https://{{task.user}}@h/x`, `placeholder 1 "{{task.user}}"` + msg},
		{"second placeholder in the host", `https://h{{task.a}}/{{task.b}}`, `placeholder 1 "{{task.a}}"` + msg},
		{"path and query", `https://h/{{task.a}}?x={{task.b}}&{{task.c}}`, ""},
		{"text parameters are not URLs", `{{task.a}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileTemplate(tt.src, tt.name != "text parameters are not URLs")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("CompileTemplate(%q) error =\n%s\nwant\n%s", tt.src, got, tt.want)
			}
		})
	}
	// A placeholder that makes a path segment "." or ".." does not render:
	// escaping keeps dots, and resolving them climbs the path.
	for _, tt := range []struct{ src, x, seg string }{
		{`https://h/agent/{{task.x}}?a=1`, "..", ".."},
		{`https://h/agent/{{task.x}}`, ".", "."},
		{`https://h/agent/.{{task.x}}/y`, ".", ".."},
		{`https://h/{{task.x}}{{task.x}}/y`, ".", ".."},
	} {
		tmpl, err := CompileTemplate(tt.src, true)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tmpl.Render(&Env{Task: map[string]any{"x": tt.x}})
		if err == nil || !strings.Contains(err.Error(), "path segment "+strconv.Quote(tt.seg)) {
			t.Errorf("Render(%q) with x %q: %v, want a refused %q segment", tt.src, tt.x, err, tt.seg)
		}
	}
	for _, x := range []string{"...", ".x", "a..", "%2e%2e"} {
		tmpl, _ := CompileTemplate(`https://h/agent/{{task.x}}?q={{task.x}}`, true)
		if _, err := tmpl.Render(&Env{Task: map[string]any{"x": x}}); err != nil {
			t.Errorf("segment %q refused: %v", x, err)
		}
	}
	// Dots in the query and the policy's own dot segments are not the
	// placeholder's doing.
	tmpl, _ := CompileTemplate(`https://h/a/../b?q={{task.x}}`, true)
	if _, err := tmpl.Render(&Env{Task: map[string]any{"x": ".."}}); err != nil {
		t.Errorf("a query value of .. refused: %v", err)
	}

	// The example renders in its own path segment once the tenant
	// moves out of the host.
	tmpl, err := CompileTemplate(`https://twiml.example.com/{{task.tenant}}/x`, true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render(&Env{Task: map[string]any{"tenant": "evil.example/x?"}})
	if want := "https://twiml.example.com/evil.example%2Fx%3F/x"; err != nil || got != want {
		t.Errorf("Render = %v, %v; want %q", got, err, want)
	}
}
