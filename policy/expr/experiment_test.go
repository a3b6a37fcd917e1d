package expr

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/assignd/assignd/policy/experiment"
)

func testExperiments(t *testing.T, key string) *Experiments {
	t.Helper()
	split, err := experiment.NewSplit("vip", "", []experiment.Arm{{Name: "control", Weight: 50}, {Name: "treatment", Weight: 50}})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := CompileTemplate(key, false)
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewExperiments([]*experiment.Split{split}, []*Template{tmpl})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestKeyHashMatchesRender: the key is hashed as it renders, without
// building the string, and must hash exactly the text Render returns, or
// explain would show another point than Decide used.
func TestKeyHashMatchesRender(t *testing.T) {
	task := map[string]any{"from": "+14155550100", "n": 42.5, "big": json.Number("12345678901234567890"),
		"vip": true, "i": 7, "nested": map[string]any{"a": []any{"x", "y"}}}
	for _, key := range []string{"{{task.from}}", "{{task.from}}/{{worker.team}}", "n={{task.n}}", "{{task.big}}",
		"{{task.vip}}-{{task.i}}", "{{task.nested.a[1]}}", "{{callback.TaskSid}}"} {
		x := testExperiments(t, key)
		env := &Env{Task: task, Worker: map[string]any{"team": "blue"}, Callback: map[string]any{"TaskSid": "WT1"}}
		rendered, err := x.Key(0).Render(env)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		s, ok := rendered.(string)
		if !ok {
			b, _ := json.Marshal(rendered)
			s = strings.Trim(string(b), `"`)
		}
		h := x.Set().Split(0).Hasher()
		if !x.Key(0).hashInto(env, &h) {
			t.Fatalf("%s: did not render", key)
		}
		if got, want := h.Point(), x.Set().Split(0).Point(s); got != want {
			t.Errorf("%s: hashed point %d, the rendered %q has point %d", key, got, s, want)
		}
		k, point, fallback := x.ExperimentKey(0, env)
		if fallback || k != s || point != h.Point() {
			t.Errorf("%s: ExperimentKey = %q %d %v, want %q %d", key, k, point, fallback, s, h.Point())
		}
	}
}

// TestExperimentRef: experiment.NAME is the arm, recorded once; a missing
// key falls back to the TaskSid; an undefined experiment is NULL.
func TestExperimentRef(t *testing.T) {
	x := testExperiments(t, "{{task.from}}")
	split := x.Set().Split(0)
	e, err := Compile(`experiment.vip == "treatment" OR experiment.vip == "control"`)
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Task: map[string]any{"from": "+14155550100"}, Callback: map[string]any{"TaskSid": "WT1"}, Experiments: x}
	if !e.Eval(env) {
		t.Error("a caller is in neither arm")
	}
	arm, ok := env.Arms.Seen(0)
	if !ok || arm != split.Assign("+14155550100") || env.Arms.Fallback(0) {
		t.Errorf("recorded arm %d %v, want %d", arm, ok, split.Assign("+14155550100"))
	}
	env = &Env{Task: map[string]any{"from": map[string]any{}}, Callback: map[string]any{"TaskSid": "WT1"}, Experiments: x}
	e.Eval(env)
	if arm, _ := env.Arms.Seen(0); arm != split.Assign("WT1") || !env.Arms.Fallback(0) {
		t.Errorf("an object key: arm %d, fallback %v; want the TaskSid's arm %d", arm, env.Arms.Fallback(0), split.Assign("WT1"))
	}
	env = &Env{Task: map[string]any{}}
	if e.Eval(env) || !env.Arms.Empty() {
		t.Error("experiment.vip without experiments is not NULL")
	}
	if why := e.Why(env); !strings.Contains(why, "no such experiment") {
		t.Errorf("Why = %q", why)
	}
}

func TestExperimentRefSyntax(t *testing.T) {
	for src, want := range map[string]string{
		`experiment == "a"`:        `expected "." and a key after "experiment"`,
		`experiment.a.b == "a"`:    "experiment.a.b is not an experiment",
		`experiment.a[0] == "a"`:   "is not an experiment",
		`task.x == experiment.vip`: "",
	} {
		_, err := Compile(src)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("Compile(%s) = %v, want %q", src, err, want)
		}
	}
}

func TestComparedArms(t *testing.T) {
	e, err := Compile(`experiment.a == "x" AND ("y" != experiment.b OR experiment.a IN ["p", "q"]) AND task.z == "no"`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	e.ComparedArms(func(ref *Ref, arm string) { got = append(got, ref.Experiment()+"="+arm) })
	if want := "a=x b=y a=p a=q"; strings.Join(got, " ") != want {
		t.Errorf("ComparedArms: %v, want %s", got, want)
	}
}
