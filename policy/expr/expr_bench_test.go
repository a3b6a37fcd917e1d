package expr

import (
	"testing"

	exprlang "github.com/expr-lang/expr"
)

// BenchmarkExpr runs the same conditions through our evaluator and through
// github.com/expr-lang/expr, side by side, on the same decoded JSON, to keep
// the "parse it ourselves" decision honest.
func BenchmarkExpr(b *testing.B) {
	env := testEnv(b)
	env.Task["priority"] = 5.0
	exprEnv := map[string]any{"task": env.Task, "worker": env.Worker, "callback": env.Callback}
	cases := []struct {
		name     string
		ours     string
		exprLang string
	}{
		{"eq-string", `task.language == "en"`, `task.language == "en"`},
		{"in-list", `task.language IN ["fr", "es", "en"]`, `task.language in ["fr", "es", "en"]`},
		{"has", `task.skills HAS "billing"`, `"billing" in task.skills`},
		{"and-or-4",
			`(task.language == "en" OR task.language == "fr") AND worker.skill_rating >= 5.1 AND task.priority > 3`,
			`(task.language == "en" or task.language == "fr") and worker.skill_rating >= 5.1 and task.priority > 3`},
	}
	for _, c := range cases {
		ours := mustCompile(b, c.ours)
		if !ours.Eval(env) {
			b.Fatalf("%s: ours is false", c.name)
		}
		b.Run("assignd/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !ours.Eval(env) {
					b.Fatal("false")
				}
			}
		})
		program, err := exprlang.Compile(c.exprLang, exprlang.Env(exprEnv), exprlang.AsBool())
		if err != nil {
			b.Fatalf("%s: exprlang.Compile: %v", c.name, err)
		}
		b.Run("expr-lang/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := exprlang.Run(program, exprEnv)
				if err != nil || out != true {
					b.Fatalf("expr.Run = %v, %v", out, err)
				}
			}
		})
	}
}
