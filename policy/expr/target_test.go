package expr

import (
	"strings"
	"testing"
)

// TestCompileTarget holds TaskRouter's target semantics: a bare key reads
// the worker, task. reads the task, and Twilio's own target_workers example
// matches a worker that has the skills.
func TestCompileTarget(t *testing.T) {
	env := &Env{
		Task:     decodeDoc(t, `{"language": "english", "skills": ["none"]}`),
		Worker:   decodeDoc(t, `{"skills": ["support", "billing"], "languages": ["english", "french"]}`),
		Callback: map[string]any{"WorkerSid": "WK0123456789abcdef0123456789abcdef"},
	}
	tests := []struct {
		src   string
		want  bool
		canon string
	}{
		{`skills HAS 'support' AND languages HAS 'english'`, true, `worker.skills HAS "support" AND worker.languages HAS "english"`},
		{`languages HAS task.language`, true, `worker.languages HAS task.language`},
		{`task.skills HAS 'support'`, false, `task.skills HAS "support"`},
		{`worker.skills HAS 'billing'`, true, `worker.skills HAS "billing"`},
		{`sid == 'WK0123456789abcdef0123456789abcdef'`, true, `worker.sid == "WK0123456789abcdef0123456789abcdef"`},
	}
	for _, tt := range tests {
		e, err := CompileTarget(tt.src)
		if err != nil {
			t.Fatalf("CompileTarget(%q): %v", tt.src, err)
		}
		if got := e.Eval(env); got != tt.want {
			t.Errorf("CompileTarget(%q).Eval = %v, want %v", tt.src, got, tt.want)
		}
		if e.Canonical() != tt.canon {
			t.Errorf("CompileTarget(%q).Canonical = %q, want %q", tt.src, e.Canonical(), tt.canon)
		}
		// The canonical form names every root, so a filter reads it alike.
		if again := mustCompile(t, e.Canonical()); again.Eval(env) != tt.want || again.Canonical() != tt.canon {
			t.Errorf("Compile(%q) does not keep the condition", e.Canonical())
		}
	}
	// In a filter the same bare keys read the task.
	if mustCompile(t, `skills HAS 'support'`).Eval(env) {
		t.Error("a bare key in a filter read the worker")
	}
}

// TestWorkerFields holds the worker fields of TaskRouter's expressions:
// worker.sid reads the callback's WorkerSid; the fields the callback does
// not carry load with a warning that says so.
func TestWorkerFields(t *testing.T) {
	env := &Env{Worker: map[string]any{}, Callback: map[string]any{"WorkerSid": "WK1"}}
	if e := mustCompile(t, `worker.sid == "WK1"`); !e.Eval(env) || len(e.Warnings()) != 0 {
		t.Errorf("worker.sid == WorkerSid: eval %v, warnings %q", e.Eval(env), e.Warnings())
	}
	if tmpl, err := CompileTemplate("{{worker.sid}}", false); err != nil {
		t.Fatal(err)
	} else if v, err := tmpl.Render(env); err != nil || v != "WK1" {
		t.Errorf("{{worker.sid}} rendered %v, %v", v, err)
	}
	for _, src := range []string{`worker.friendly_name == "a"`, `worker.activity_sid == "WA1"`, `worker.activity_name == "Idle"`} {
		e := mustCompile(t, src)
		if w := e.Warnings(); len(w) != 1 || !strings.Contains(w[0], "does not carry") {
			t.Errorf("Compile(%q).Warnings = %q, want one saying the callback does not carry it", src, w)
		}
	}
	e, err := CompileTarget(`activity_name == "Idle"`)
	if err != nil {
		t.Fatal(err)
	}
	if w := e.Warnings(); len(w) != 1 || !strings.Contains(w[0], "worker.activity_name") {
		t.Errorf("bare activity_name in a target: warnings %q", w)
	}
	// Deeper paths are attributes, not fields.
	if e := mustCompile(t, `worker.sid.x == 1 OR worker.friendly_name.first == "a"`); len(e.Warnings()) != 0 {
		t.Errorf("attribute paths warned: %q", e.Warnings())
	}
}
