package admin

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/internal/browsertest"
)

var consoleScreenshots = flag.String("console-screenshots", "", "write console-laptop.png and console-phone.png of the console into this directory (e.g. docs)")

// consolePanels are the ids every console page has, one per panel.
var consolePanels = []string{"pod", "panel-rules", "panel-edge", "panel-shadow", "panel-calendars", "panel-tables",
	"panel-experiments", "panel-decisionlog", "panel-policy", "panel-try", "panel-recent"}

// TestConsoleLayoutInBrowser drives the console with every panel
// configured and an hour of signed traffic in headless Chromium, at a
// laptop's size and a phone's: nothing scrolls sideways, every panel is
// there, the sparklines have a point a minute, the filter narrows the
// decisions, auto-refresh brings new traffic in and pauses while a form is
// edited, and the browser reports no error and no CSP violation.
func TestConsoleLayoutInBrowser(t *testing.T) {
	ctx, browserErrors := browsertest.New(t)
	env := newFullEnv(t)
	env.run(t, Minutes)
	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
		shotHeight    int64 // how much of the page the screenshot shows
	}{
		{"laptop", 1400, 900, false, 2200},
		{"phone", 390, 844, true, 3200},
		{"narrowest", 360, 740, true, 0},
	} {
		t.Run(size.name, func(t *testing.T) {
			browsertest.Viewport(t, ctx, size.width, size.height, size.mobile)
			browsertest.Navigate(t, ctx, env.admin.URL+"/")
			checkLayout(t, ctx, size.width)
			if *consoleScreenshots != "" && size.shotHeight > 0 {
				browsertest.Screenshot(t, ctx, filepath.Join(*consoleScreenshots, "console-"+size.name+".png"), size.shotHeight)
			}
			checkFilter(t, ctx, env)
			for _, e := range browserErrors() {
				t.Errorf("browser console: %s", e)
			}
		})
	}
	t.Run("auto-refresh", func(t *testing.T) {
		checkRefresh(t, ctx, env)
		for _, e := range browserErrors() {
			t.Errorf("browser console: %s", e)
		}
	})
}

// checkLayout checks the loaded page at a viewport width.
func checkLayout(t *testing.T, ctx context.Context, width int64) {
	t.Helper()
	// A phone widens its layout viewport to fit a page too wide for it, so
	// innerWidth is checked as well as scrollWidth.
	inner := browsertest.JS[int64](t, ctx, "reading the viewport", `window.innerWidth`)
	sw := browsertest.JS[int64](t, ctx, "reading scrollWidth", `document.documentElement.scrollWidth`)
	if inner != width || sw > width {
		wide := browsertest.JS[string](t, ctx, "finding wide elements", fmt.Sprintf(`Array.from(document.querySelectorAll("body *")).
			filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > %d).slice(-5).map(e => e.tagName + "#" + e.id + "." + (e.getAttribute("class") || "") +
			" " + e.textContent.slice(0, 40)).join("; ")`, width))
		t.Errorf("viewport %d px, scrollWidth %d px; want both %d: the page is too wide (%s)", inner, sw, width, wide)
	}
	for _, id := range consolePanels {
		if !browsertest.JS[bool](t, ctx, "finding #"+id, fmt.Sprintf(`(() => { const e = document.getElementById(%q);
			return !!e && e.getBoundingClientRect().height > 0; })()`, id)) {
			t.Errorf("panel #%s is missing or not shown", id)
		}
	}
	points := browsertest.JS[[]int64](t, ctx, "counting sparkline points",
		`Array.from(document.querySelectorAll("#activity svg.spark polyline")).map(p => p.points.numberOfItems)`)
	if len(points) == 0 {
		t.Fatal("no sparklines")
	}
	for i, n := range points {
		if n != Minutes {
			t.Errorf("sparkline %d has %d points, want one a minute, %d", i, n, Minutes)
		}
	}
	// A sparkline is drawn, not flat: an hour of traffic rises and falls.
	if ys := browsertest.JS[int64](t, ctx, "reading a sparkline", `new Set(Array.from(document.querySelector(
		'#activity tr[data-rule="default"] polyline').points).map(p => p.y)).size`); ys < 3 {
		t.Errorf("the default rule's sparkline has %d heights, want a shape", ys)
	}
}

// checkFilter picks a rule in the recent decisions' filter and loads what
// the form submits: the list narrows to that rule.
func checkFilter(t *testing.T, ctx context.Context, env *fullEnv) {
	t.Helper()
	all := browsertest.JS[int64](t, ctx, "counting decisions", `document.querySelectorAll("#recent tbody tr").length`)
	// The query the form submits, as the browser encodes it; loading it is
	// what the submit button does, without racing its navigation.
	query := browsertest.JS[string](t, ctx, "filling the filter", `(() => {
		const f = document.getElementById("recent-filter");
		document.getElementById("filter-rule").value = "vip";
		return f.method + " " + new URLSearchParams(new FormData(f)).toString(); })()`)
	if query != "get rule=vip&instruction=" {
		t.Fatalf("the filter form submits %q", query)
	}
	browsertest.Navigate(t, ctx, env.admin.URL+"/?"+strings.TrimPrefix(query, "get "))
	rules := browsertest.JS[[]string](t, ctx, "reading filtered decisions",
		`Array.from(document.querySelectorAll('#recent tbody td[data-label="Rule"]')).map(td => td.textContent)`)
	if len(rules) == 0 || int64(len(rules)) >= all {
		t.Errorf("the filter left %d of %d decisions", len(rules), all)
	}
	for _, r := range rules {
		if r != "vip" {
			t.Errorf("filtered list shows rule %q", r)
			break
		}
	}
	browsertest.Navigate(t, ctx, env.admin.URL+"/")
}

// checkRefresh sends a callback after the page loaded and waits for the
// page to show it without a reload; then, with a form control focused,
// the refresh pauses and says so.
func checkRefresh(t *testing.T, ctx context.Context, env *fullEnv) {
	t.Helper()
	browsertest.Navigate(t, ctx, env.admin.URL+"/")
	browsertest.JS[bool](t, ctx, "marking the page", `(window.notReloaded = true)`)
	const sid = "WRfeedfacefeedfacefeedfacefeedface"
	if code := env.send(t, handlers.AssignmentPath, sid, `{"channel":"chat"}`, nil); code != 200 {
		t.Fatalf("callback: status %d", code)
	}
	browsertest.WaitFor(t, ctx, "the refreshed decisions", `document.getElementById("recent").textContent.includes("`+sid+`")`, 12*time.Second)
	if !browsertest.JS[bool](t, ctx, "checking the page stayed", `window.notReloaded === true`) {
		t.Error("the page reloaded instead of refreshing in place")
	}
	browsertest.JS[bool](t, ctx, "focusing the try-it form", `(() => { document.getElementById("try-task").focus(); return true; })()`)
	browsertest.WaitFor(t, ctx, "the pause", `document.getElementById("refresh-state").textContent.includes("paused")`, 12*time.Second)
	if strings.Contains(browsertest.JS[string](t, ctx, "reading the try-it form", `document.getElementById("try-task").value`), "WR") {
		t.Error("the refresh touched the form")
	}
}
