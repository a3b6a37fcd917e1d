package app

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/assignd/assignd/cli"
	"github.com/assignd/assignd/policy"
)

var consoleScreenshot = flag.String("console-screenshot", "", "write a PNG of the console page here (e.g. docs/console.png)")

// findBrowser returns a Chromium to drive. Without one the test skips
// locally, with a message, and fails in CI.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found and CI is set: the browser test must run in CI (apt-get install -y chromium)")
	}
	t.Skip("no Chromium found (apt-get install -y chromium); skipping the browser test, which CI runs")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and collects
// every console error, uncaught exception and error log entry (CSP
// violations among them) into errs.
func newBrowser(t *testing.T) (ctx context.Context, errs func() []string) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(findBrowser(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1600),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })

	got := make(chan string, 100)
	note := func(format string, args ...any) {
		select {
		case got <- fmt.Sprintf(format, args...):
		default:
		}
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				note("console.%s: %+v", ev.Type, ev.Args)
			}
		case *runtime.EventExceptionThrown:
			note("exception: %+v", ev.ExceptionDetails)
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				note("log %s: %s (%s)", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
			}
		}
	})
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	for _, enable := range []func() error{
		func() error { _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); return err },
		func() error { _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); return err },
	} {
		if err := enable(); err != nil {
			t.Fatalf("enabling browser logs: %v", err)
		}
	}
	return ctx, func() []string {
		var out []string
		for {
			select {
			case e := <-got:
				out = append(out, e)
			default:
				return out
			}
		}
	}
}

// js runs a JavaScript expression in the page and returns its value.
func js[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// waitFor waits until the JavaScript expression is true.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// navigate loads the console page.
func navigate(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("loading %s: %v", u, err)
	}
	waitFor(t, ctx, "the page", `document.readyState === "complete"`)
}

// TestConsoleInBrowser drives the admin console in headless Chromium
// against a real serve on loopback, running the example policy from a file.
func TestConsoleInBrowser(t *testing.T) {
	ctx, browserErrors := newBrowser(t)
	cfg, write := devPolicyConfig(t, string(policy.Example()))
	r := start(t, cfg)
	p := r.app.store.Current()

	// The rules table shows every rule, in order.
	navigate(t, ctx, r.admin+"/")
	names := js[[]string](t, ctx, "reading rules", `Array.from(document.querySelectorAll("#rules tbody tr")).map(r => r.dataset.rule)`)
	if strings.Join(names, ",") != strings.Join(p.Rules(), ",") {
		t.Errorf("rules table shows %v, want %v", names, p.Rules())
	}

	// An answered callback appears in the recent decisions.
	r.to(t)
	navigate(t, ctx, r.admin+"/")
	recent := js[string](t, ctx, "reading recent decisions", `document.querySelector("#recent tbody").textContent`)
	if sid := devCallback().Get("ReservationSid"); !strings.Contains(recent, sid) {
		t.Errorf("recent decisions lack %s:\n%s", sid, recent)
	}

	// Attributes that match the third rule: the page names it the winner,
	// with the reply explain gives.
	third := p.Rules()[2]
	task, worker := `{"type": "callback"}`, `{"contact_uri": "client:alice"}`
	js[bool](t, ctx, "filling the try-it form", fmt.Sprintf(`(() => {
		document.getElementById("try-task").value = %q;
		document.getElementById("try-worker").value = %q;
		document.getElementById("try-now").value = "2026-11-30T17:00:00Z";
		document.querySelector('#try button[type="submit"]').click();
		return true;
	})()`, task, worker))
	waitFor(t, ctx, "the explanation", `!document.getElementById("try-result").hidden`)
	winner := js[string](t, ctx, "reading the winner", `document.getElementById("try-winner").textContent`)
	matched := js[string](t, ctx, "reading the highlighted rule", `document.querySelector("#try-trace tr.matched th").textContent`)
	reply := js[string](t, ctx, "reading the reply", `document.getElementById("try-reply").textContent`)
	if !strings.Contains(winner, "#3 “"+third+"”") || matched != third {
		t.Errorf("winner %q, highlighted %q; want rule #3 %q", winner, matched, third)
	}
	if want := explainReply(t, cfg.PolicyFile, task, worker); reply != want {
		t.Errorf("page's reply %s, explain's %s", reply, want)
	}
	if *consoleScreenshot != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 gives a PNG
		if err != nil {
			t.Fatalf("taking a screenshot: %v", err)
		}
		if err := os.WriteFile(*consoleScreenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Malformed JSON in a field: its error is next to it.
	js[bool](t, ctx, "submitting malformed JSON", `(() => {
		document.getElementById("try-worker").value = '{"contact_uri": ';
		document.querySelector('#try button[type="submit"]').click();
		return true;
	})()`)
	waitFor(t, ctx, "the field's error", `document.getElementById("try-worker-error").textContent !== ""`)
	if got := js[string](t, ctx, "reading the field's error", `document.getElementById("try-worker-error").textContent`); !strings.Contains(got, "malformed JSON") {
		t.Errorf("worker field's error = %q, want malformed JSON", got)
	}

	// Reload after the file changed: the page shows the new hash.
	src := append(policy.Example(), "\n# changed by the browser test\n"...)
	next, err := policy.Parse(cfg.PolicyFile, src)
	if err != nil {
		t.Fatal(err)
	}
	write(string(src))
	js[bool](t, ctx, "clicking reload", `(() => { document.getElementById("reload").click(); return true; })()`)
	waitFor(t, ctx, "the reload outcome", `document.getElementById("reload-result").textContent.includes("`+next.Hash()+`")`)
	if got := js[string](t, ctx, "reading the reload outcome", `document.getElementById("reload-result").textContent`); !strings.Contains(got, "ok: hash "+next.Hash()) {
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
