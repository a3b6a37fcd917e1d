package app

import (
	"strings"
	"testing"
	"time"

	"github.com/assignd/assignd/internal/browsertest"
	"github.com/assignd/assignd/policy"
)

// TestConsoleTokenInBrowser drives the console with ASSIGND_ADMIN_TOKEN
// set: the page asks for the token, the script keeps it in session storage
// and opens the console with it, and the try-it form's explain request
// carries it, all under the strict Content-Security-Policy.
func TestConsoleTokenInBrowser(t *testing.T) {
	ctx, browserErrors := browsertest.New(t)
	cfg, _ := devPolicyConfig(t, string(policy.Example()))
	cfg.AdminToken = "s3cret-admin-token"
	r := start(t, cfg)

	browsertest.Navigate(t, ctx, r.admin+"/")
	if !browsertest.JS[bool](t, ctx, "looking for the token form", `document.getElementById("token-form") !== null && document.getElementById("rules") === null`) {
		t.Fatalf("the console without a token does not ask for one")
	}
	browsertest.JS[bool](t, ctx, "entering the token", `(() => {
		document.getElementById("token").value = "s3cret-admin-token";
		document.querySelector('#token-form button[type="submit"]').click();
		return true;
	})()`)
	browsertest.WaitFor(t, ctx, "the unlocked console", `document.getElementById("rules") !== null`, 10*time.Second)
	if got := browsertest.JS[string](t, ctx, "reading session storage", `window.sessionStorage.getItem("assignd-admin-token")`); got != "s3cret-admin-token" {
		t.Errorf("session storage holds %q", got)
	}
	browsertest.JS[bool](t, ctx, "filling the try-it form", `(() => {
		document.getElementById("try-task").value = '{"type": "callback"}';
		document.querySelector('#try button[type="submit"]').click();
		return true;
	})()`)
	browsertest.WaitFor(t, ctx, "the explanation", `!document.getElementById("try-result").hidden`, 10*time.Second)

	// A reload of the page opens the console at once from session storage.
	browsertest.Navigate(t, ctx, r.admin+"/")
	browsertest.WaitFor(t, ctx, "the console reopened", `document.getElementById("rules") !== null`, 10*time.Second)
	var unexpected []string
	for _, e := range browserErrors() {
		// The locked page's own 401 is logged by the browser; nothing else may be.
		if !strings.Contains(e, "401") {
			unexpected = append(unexpected, e)
		}
	}
	if len(unexpected) > 0 {
		t.Errorf("browser errors:\n%s", strings.Join(unexpected, "\n"))
	}
}
