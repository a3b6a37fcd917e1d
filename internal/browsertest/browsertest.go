// Package browsertest drives a headless Chromium for the console's browser
// tests: it finds the browser (skipping without one, failing in CI),
// collects every console error, uncaught exception, error log entry and
// Content-Security-Policy violation, and wraps the few chromedp calls the
// tests make. It is imported by tests only.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Find returns a Chromium to drive. Without one the test skips locally,
// with a message, and fails in CI.
func Find(t testing.TB) string {
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

// cspRecorder runs in every page before its own scripts, from the
// DevTools protocol, which the page's Content-Security-Policy does not
// govern: it reports each violation as a console error, which New collects.
const cspRecorder = `document.addEventListener("securitypolicyviolation", function (e) {
	console.error("CSP violation: " + e.violatedDirective + " blocked " + e.blockedURI);
});`

// New starts a headless Chromium with a fresh profile and collects every
// console error or warning, uncaught exception, error log entry and CSP
// violation; errs returns those collected since the last call.
func New(t testing.TB) (ctx context.Context, errs func() []string) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Find(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1600),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 120*time.Second)
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
		func() error {
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder})
			return err
		},
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

// JS runs a JavaScript expression in the page and returns its value.
func JS[T any](t testing.TB, ctx context.Context, what, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// WaitFor waits up to timeout until the JavaScript expression is true. A
// page that navigates meanwhile is waited on afresh: the protocol then
// reports the old page's context gone (error -32000).
func WaitFor(t testing.TB, ctx context.Context, what, expr string, timeout time.Duration) {
	t.Helper()
	end := time.Now().Add(timeout)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(end))))
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), "(-32000)") || time.Now().After(end) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Navigate loads u and waits until the page has loaded.
func Navigate(t testing.TB, ctx context.Context, u string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("loading %s: %v", u, err)
	}
	WaitFor(t, ctx, "the page", `document.readyState === "complete"`, 10*time.Second)
}

// Viewport sets the page's size in CSS pixels; mobile also makes the page's
// viewport meta tag count, as on a phone.
func Viewport(t testing.TB, ctx context.Context, width, height int64, mobile bool) {
	t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height, opts...)); err != nil {
		t.Fatalf("setting the viewport to %dx%d: %v", width, height, err)
	}
}

// Screenshot writes a PNG of the page's top to path: the whole width, and
// as much of its height as there is, up to maxHeight CSS pixels.
func Screenshot(t testing.TB, ctx context.Context, path string, maxHeight int64) {
	t.Helper()
	size := JS[[]float64](t, ctx, "measuring the page", `[document.documentElement.clientWidth, document.documentElement.scrollHeight]`)
	clip := &page.Viewport{Width: size[0], Height: min(size[1], float64(maxHeight)), Scale: 1}
	shot, err := chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng,
		Clip: clip, CaptureBeyondViewport: new(true)})
	if err != nil {
		t.Fatalf("taking a screenshot: %v", err)
	}
	if err := os.WriteFile(path, shot.Data, 0o644); err != nil {
		t.Fatal(err)
	}
}
