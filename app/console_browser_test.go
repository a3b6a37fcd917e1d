package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assignd/assignd/cli"
	"github.com/assignd/assignd/internal/browsertest"
	"github.com/assignd/assignd/policy"
)

// TestConsoleInBrowser drives the admin console in headless Chromium
// against a real serve on loopback, running the example policy from a file.
func TestConsoleInBrowser(t *testing.T) {
	ctx, browserErrors := browsertest.New(t)
	cfg, write := devPolicyConfig(t, string(policy.Example()))
	r := start(t, cfg)
	p := r.app.store.Current()

	// The rules table shows every rule, in order.
	browsertest.Navigate(t, ctx, r.admin+"/")
	names := browsertest.JS[[]string](t, ctx, "reading rules", `Array.from(document.querySelectorAll("#rules tbody tr")).map(r => r.dataset.rule)`)
	if strings.Join(names, ",") != strings.Join(p.Rules(), ",") {
		t.Errorf("rules table shows %v, want %v", names, p.Rules())
	}

	// An answered callback appears in the recent decisions.
	r.to(t)
	browsertest.Navigate(t, ctx, r.admin+"/")
	recent := browsertest.JS[string](t, ctx, "reading recent decisions", `document.querySelector("#recent tbody").textContent`)
	if sid := devCallback().Get("ReservationSid"); !strings.Contains(recent, sid) {
		t.Errorf("recent decisions lack %s:\n%s", sid, recent)
	}

	// Attributes that match the third rule: the page names it the winner,
	// with the reply explain gives.
	third := p.Rules()[2]
	task, worker := `{"type": "callback"}`, `{"contact_uri": "client:alice"}`
	browsertest.JS[bool](t, ctx, "filling the try-it form", fmt.Sprintf(`(() => {
		document.getElementById("try-task").value = %q;
		document.getElementById("try-worker").value = %q;
		document.getElementById("try-now").value = "2026-11-30T17:00:00Z";
		document.querySelector('#try button[type="submit"]').click();
		return true;
	})()`, task, worker))
	browsertest.WaitFor(t, ctx, "the explanation", `!document.getElementById("try-result").hidden`, 10*time.Second)
	winner := browsertest.JS[string](t, ctx, "reading the winner", `document.getElementById("try-winner").textContent`)
	matched := browsertest.JS[string](t, ctx, "reading the highlighted rule", `document.querySelector("#try-trace tr.matched th").textContent`)
	reply := browsertest.JS[string](t, ctx, "reading the reply", `document.getElementById("try-reply").textContent`)
	if !strings.Contains(winner, "#3 “"+third+"”") || matched != third {
		t.Errorf("winner %q, highlighted %q; want rule #3 %q", winner, matched, third)
	}
	if want := explainReply(t, cfg.PolicyFile, task, worker); reply != want {
		t.Errorf("page's reply %s, explain's %s", reply, want)
	}

	// Malformed JSON in a field: its error is next to it.
	browsertest.JS[bool](t, ctx, "submitting malformed JSON", `(() => {
		document.getElementById("try-worker").value = '{"contact_uri": ';
		document.querySelector('#try button[type="submit"]').click();
		return true;
	})()`)
	browsertest.WaitFor(t, ctx, "the field's error", `document.getElementById("try-worker-error").textContent !== ""`, 10*time.Second)
	if got := browsertest.JS[string](t, ctx, "reading the field's error", `document.getElementById("try-worker-error").textContent`); !strings.Contains(got, "malformed JSON") {
		t.Errorf("worker field's error = %q, want malformed JSON", got)
	}

	// Reload after the file changed: the page shows the new hash.
	src := append(policy.Example(), "\n# changed by the browser test\n"...)
	next, err := policy.Parse(cfg.PolicyFile, src)
	if err != nil {
		t.Fatal(err)
	}
	write(string(src))
	browsertest.JS[bool](t, ctx, "clicking reload", `(() => { document.getElementById("reload").click(); return true; })()`)
	browsertest.WaitFor(t, ctx, "the reload outcome", `document.getElementById("reload-result").textContent.includes("`+next.Hash()+`")`, 10*time.Second)
	if got := browsertest.JS[string](t, ctx, "reading the reload outcome", `document.getElementById("reload-result").textContent`); !strings.Contains(got, "ok: hash "+next.Hash()) {
		t.Errorf("reload outcome %q, want ok with hash %s", got, next.Hash())
	}

	for _, e := range browserErrors() {
		t.Errorf("browser console: %s", e)
	}
}

// explainReply is the reply "assignd explain -format json" gives for the
// attributes, compact, as the page shows it.
func explainReply(t *testing.T, file, task, worker string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := cli.Explain([]string{"-policy", file, "-format", "json", "-task", task, "-worker", worker,
		"-now", "2026-11-30T17:00:00Z"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("explain: exit %d: %s", code, stderr.String())
	}
	var out struct {
		Reply json.RawMessage `json:"reply"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, out.Reply); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestExplainAPIMatchesCLI checks that POST /-/explain answers, byte for
// byte, what "assignd explain -format json" prints.
func TestExplainAPIMatchesCLI(t *testing.T) {
	cfg, _ := devPolicyConfig(t, string(policy.Example()))
	r := start(t, cfg)
	for _, tc := range []struct{ name, task, worker string }{
		{"call", `{"type":"callback"}`, `{"contact_uri":"client:alice"}`},
		{"conference over REST", `{"language":"es","tier":"gold","to":"+15005550007"}`, `{}`},
		{"dequeue", `{}`, `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := cli.Explain([]string{"-policy", cfg.PolicyFile, "-format", "json", "-task", tc.task, "-worker", tc.worker,
				"-now", "2026-11-30T17:00:00Z"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
				t.Fatalf("explain: exit %d: %s", code, stderr.String())
			}
			body := `{"task":` + tc.task + `,"worker":` + tc.worker + `,"now":"2026-11-30T17:00:00Z"}`
			res, err := httpPostJSON(r.admin+"/-/explain", body)
			if err != nil {
				t.Fatal(err)
			}
			if res != stdout.String() {
				t.Errorf("POST /-/explain:\n%s\nassignd explain -format json:\n%s", res, stdout.String())
			}
		})
	}
}

// httpPostJSON posts body as JSON and returns the answer's body; anything
// but a 200 is an error.
func httpPostJSON(u, body string) (string, error) {
	res, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST %s: %d %s", u, res.StatusCode, b)
	}
	return string(b), nil
}
