package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/assignd/assignd/internal/testkit"
)

// goldenDecision is a Decision in a form that reads well in a golden file.
type goldenDecision struct {
	Rule        string          `json:"rule"`
	Index       int             `json:"index"`
	Mode        Mode            `json:"mode"`
	Instruction string          `json:"instruction"`
	Params      []goldenParam   `json:"params"`
	Reply       json.RawMessage `json:"reply"`
	Skipped     []Skip          `json:"skipped,omitempty"`
	Steps       []Step          `json:"steps"`
	Experiments []ExperimentArm `json:"experiments,omitempty"`
}

type goldenParam struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// parseCallbackLines reads key=value lines into an Input, decoding the two
// attribute fields and the numeric fields as the HTTP layer does; now=
// sets the clock.
func parseCallbackLines(t *testing.T, text string) *Input {
	t.Helper()
	in := &Input{Task: map[string]any{}, Worker: map[string]any{}, Callback: map[string]any{},
		Now: time.Date(2026, 11, 28, 15, 4, 5, 0, time.UTC)}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("callback line %q has no =", line)
		}
		switch k {
		case "now":
			ts, err := time.Parse(time.RFC3339, v)
			if err != nil {
				t.Fatalf("now: %v", err)
			}
			in.Now = ts
			continue
		case "TaskAttributes", "WorkerAttributes":
			m := map[string]any{}
			if err := json.Unmarshal([]byte(v), &m); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			if k == "TaskAttributes" {
				in.Task = m
			} else {
				in.Worker = m
			}
		case "TaskAge", "TaskPriority":
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			in.Callback[k] = n
			continue
		}
		in.Callback[k] = v
	}
	return in
}

// TestDecideGolden decides the callback of each testdata/decide/*.txtar
// archive with its policy and pins the decision: the archive's policy.yaml
// and callback sections are the input (key=value lines, see
// parseCallbackLines), its decision section the expected result, which
// go test ./policy -run TestDecideGolden -update rewrites.
func TestDecideGolden(t *testing.T) {
	for _, file := range testkit.Archives(t, "testdata/decide") {
		t.Run(testkit.Name(file), func(t *testing.T) {
			a := testkit.ReadArchive(t, file)
			p, err := Parse(file, []byte(testkit.Section(t, a, "policy.yaml")))
			if err != nil {
				t.Fatalf("policy does not parse:\n%v", err)
			}
			in := parseCallbackLines(t, testkit.Section(t, a, "callback"))
			ex := p.Explain(in)
			d := p.Decide(in)
			if d.Rule != ex.Decision.Rule || !bytes.Equal(d.JSON, ex.Decision.JSON) {
				t.Errorf("Decide chose %q %s but Explain chose %q %s", d.Rule, d.JSON, ex.Decision.Rule, ex.Decision.JSON)
			}
			g := goldenDecision{Rule: d.Rule, Index: d.RuleIndex, Mode: d.Mode, Instruction: d.Instruction.Name,
				Params: []goldenParam{}, Reply: d.JSON, Skipped: d.Skipped, Steps: ex.Steps, Experiments: ex.Experiments}
			if g.Reply == nil {
				g.Reply = json.RawMessage("null")
			}
			for _, prm := range d.Instruction.Params {
				g.Params = append(g.Params, goldenParam{prm.Name, prm.Value})
			}
			if d.JSON != nil && !json.Valid(d.JSON) {
				t.Fatalf("reply is not valid JSON: %s", d.JSON)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(g); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, file, a, txtar.File{Name: "decision", Data: buf.Bytes()})
		})
	}
}

// TestDecideCatchAllAlwaysDecides checks the promise Decide's signature
// makes: whatever the attributes, some rule decides.
func TestDecideCatchAllAlwaysDecides(t *testing.T) {
	p := mustParse(t, `
version: 1
rules:
  - name: needs-uri
    when: task.x == 1
    instruction: call
    params: {from: "+15005550006", url: "https://a.example/x", to: "{{worker.contact_uri}}"}
  - name: last
    instruction: accept
`)
	for _, task := range []map[string]any{nil, {}, {"x": 1.0}, {"x": "1"}} {
		d := p.Decide(&Input{Task: task})
		if task != nil && task["x"] == 1.0 {
			if d.Rule != "last" || len(d.Skipped) != 1 || d.Skipped[0].Reason != "render" {
				t.Errorf("task %v: got %q skipped %+v, want needs-uri skipped for render", task, d.Rule, d.Skipped)
			}
			continue
		}
		if d.Rule != "last" {
			t.Errorf("task %v: got rule %q, want last", task, d.Rule)
		}
	}
}

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	return p
}

// TestDecideStaticAllocs pins the hot path: a rule without templates
// decides without allocating.
func TestDecideStaticAllocs(t *testing.T) {
	p := benchPolicy(t, 10)
	in := benchInput()
	allocs := testing.AllocsPerRun(200, func() { p.Decide(in) })
	if allocs != 0 {
		t.Errorf("Decide on a static rule allocates %.0f times, want 0", allocs)
	}
}

// benchPolicy builds n rules of which only the last (the catch-all) matches
// benchInput.
func benchPolicy(t testing.TB, n int) *Policy {
	return mustParse(t, testkit.PolicySource(n))
}

func benchInput() *Input {
	return &Input{
		Task:     map[string]any{"language": "es", "tier": "gold", "call_sid": "CA88888888888888888888888888888888"},
		Worker:   map[string]any{"skills": []any{"billing", "vip"}, "contact_uri": "client:alice"},
		Callback: map[string]any{"TaskSid": "WT55555555555555555555555555555555", "TaskAge": 42.0},
		Now:      time.Date(2026, 11, 28, 15, 4, 5, 0, time.UTC),
	}
}

// BenchmarkDecide measures Decide with the last of n rules matching. The
// floor sub-benchmark is the loop's bare cost: one map lookup and string
// compare per rule, which no rule engine can undercut; compare ratios.
func BenchmarkDecide(b *testing.B) {
	in := benchInput()
	for _, n := range []int{10, 100, 1000} {
		p := benchPolicy(b, n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Decide(in)
			}
		})
		b.Run(fmt.Sprintf("floor/rules=%d", n), func(b *testing.B) {
			want := make([]string, n)
			for i := range want {
				want[i] = fmt.Sprintf("l%d", i)
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, w := range want {
					if v, _ := in.Task["language"].(string); v == w {
						break
					}
				}
			}
		})
	}
}

// TestDecideTwilioClock checks end to end:
// now.weekday uses Twilio's Mon..Sun in the policy's zone, taskrouter.* is
// read in UTC whatever the zone, bare keys read the task, and a large
// integer attribute is rendered exactly as sent.
func TestDecideTwilioClock(t *testing.T) {
	p := mustParse(t, `
version: 1
timezone: America/New_York
rules:
  - name: monday-local
    when: now.weekday == "Mon" AND customer_value == "Gold"
    instruction: redirect
    params: {call_sid: "{{call_sid}}", url: "https://h/acct/{{task.account}}?n={{account}}", accept: true}
  - name: tuesday-utc
    when: taskrouter.dayOfWeek == "Tue" AND taskrouter.currentTime < 0500
    instruction: accept
  - name: default
    instruction: reject
    params: {activity_sid: WA0123456789abcdef0123456789abcdef}
`)
	task := map[string]any{
		"customer_value": "Gold",
		"call_sid":       "CA0123456789abcdef0123456789abcdef",
		"account":        json.Number("12345678901234567890"),
	}
	// 2026-01-06 02:00 UTC is Tuesday in UTC and Monday 21:00 in New York.
	now := time.Date(2026, 1, 6, 2, 0, 0, 0, time.UTC)
	d := p.Decide(&Input{Task: task, Now: now})
	if d.Rule != "monday-local" {
		t.Fatalf("rule %q, want monday-local", d.Rule)
	}
	want := `{"instruction":"redirect","call_sid":"CA0123456789abcdef0123456789abcdef","url":"https://h/acct/12345678901234567890?n=12345678901234567890","accept":true}`
	if string(d.JSON) != want {
		t.Errorf("reply\n%s\nwant\n%s", d.JSON, want)
	}
	task["customer_value"] = "Silver"
	if d := p.Decide(&Input{Task: task, Now: now}); d.Rule != "tuesday-utc" {
		t.Errorf("rule %q, want tuesday-utc: taskrouter.* reads UTC", d.Rule)
	}
}
