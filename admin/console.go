package admin

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/assignd/assignd/decisionlog"
	"github.com/assignd/assignd/experiments"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/policy/calendar"
	"github.com/assignd/assignd/shadow"
)

// consoleFiles are the console's page template, style sheet and script:
// embedded, so that the page needs nothing from outside the process.
//
//go:embed console/console.html console/console.css console/*.js console/locked.html
var consoleFiles embed.FS

// lockedPage answers GET / without the admin token: a page with nothing
// on it but a form for the token, which the console's script keeps in
// session storage and sends with every request it makes.
func lockedPage(ctx echo.Context) error {
	b, err := consoleFiles.ReadFile("console/locked.html")
	if err != nil {
		panic("admin: embedded console file missing: console/locked.html") // go:embed guarantees it
	}
	securityHeaders(ctx.Response().Header())
	ctx.Response().Header().Set("Cache-Control", "no-store")
	return ctx.HTMLBlob(http.StatusUnauthorized, b)
}

// consoleScripts are the page's scripts, each served at "/" + its name and
// loaded in this order: console.js holds what the others share.
var consoleScripts = []string{"console/console.js", "console/refresh.js"}

// ConsoleCSP is the console's Content-Security-Policy: nothing inline,
// nothing from elsewhere, no framing, and forms that post only here.
const ConsoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// Console is what the console needs. Explain and Decisions are
// required; every function field is optional: a panel whose source is nil
// says "not configured".
type Console struct {
	// Explain builds the JSON report of an explained decision, as
	// "assignd explain -format json" prints it (explain.JSON). It is a
	// function so that the admin listener need not build REST forms.
	Explain func(*policy.Policy, policy.Explanation) ([]byte, error)
	// Decisions is the recent decisions, per-rule counts and per-minute
	// rings; feed it with the callback listener's AfterDecision.
	Decisions *DecisionLog
	// Shadow, when set, summarizes the shadow agreement of every live rule
	// it has seen, by rule; ShadowAgreement supersedes it. A page calls it
	// once, not once per rule: the agreement table it is built from grows
	// with the rules.
	Shadow func() map[string]string
	// ShadowAgreement, when set, is the shadow policy's agreement
	// (shadow.Evaluator.Agreement): the shadow panel and the per-rule
	// agreement column.
	ShadowAgreement func() shadow.Agreement
	// Outcomes, when set, summarizes how a rule's reservations ended ("" for
	// none); the outcome bars read Options.Outcomes, which supersedes it.
	Outcomes func(rule string) string
	// Status, when set, reports what the header's banners show: the example
	// policy running, a broken policy file on disk. Nil reads both from
	// the policy store.
	Status func() ConsoleStatus
	// CalendarOverrides, when set, are the overrides the calendars panel
	// applies.
	CalendarOverrides func() *calendar.Overrides
	// Experiments, when set, is the experiments report
	// (experiments.Counter.Report).
	Experiments func() *experiments.Report
	// DecisionLogHealth, when set, is the decision-log sink's health
	// (decisionlog.Log.Health).
	DecisionLogHealth func() decisionlog.Health
	// Version is the build's version, shown in the header.
	Version string
	// Hostname names the pod in the header; "" is os.Hostname.
	Hostname string
	// Started is when the process started: the counts are since then.
	Started time.Time
}

// ConsoleStatus is what the header's banners report.
type ConsoleStatus struct {
	// Example is set while the embedded example policy is running.
	Example bool
	// BrokenFile names the policy file on disk that does not load while
	// the policy from before keeps running; "" when there is none.
	BrokenFile string
	// Problems are BrokenFile's problems, as file:line: problem.
	Problems []string
}

// console serves the page and the explain API.
type console struct {
	s    *Server
	opts Console
	log  *zap.Logger
	tmpl *template.Template
	// host names the pod: Console.Hostname or os.Hostname.
	host string
}

// securityHeaders go on every console response.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ConsoleCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

func (c *console) asset(name, contentType string) echo.HandlerFunc {
	b, err := consoleFiles.ReadFile(name)
	if err != nil {
		panic("admin: embedded console file missing: " + name) // go:embed guarantees it
	}
	return func(ctx echo.Context) error {
		securityHeaders(ctx.Response().Header())
		return ctx.Blob(http.StatusOK, contentType, b)
	}
}

func (c *console) page(ctx echo.Context) error {
	securityHeaders(ctx.Response().Header())
	ctx.Response().Header().Set("Cache-Control", "no-store")
	data := c.pageData(parseFilter(ctx))
	var buf bytes.Buffer
	if err := c.tmpl.Execute(&buf, data); err != nil {
		c.log.Error("rendering the console", zap.Error(err))
		return echo.NewHTTPError(http.StatusInternalServerError, "rendering the console failed")
	}
	return ctx.HTMLBlob(http.StatusOK, buf.Bytes())
}

// stamp formats a time for the page, in UTC.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000Z")
}
