package admin

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/assignd/assignd/policy"
)

// consoleFiles are the console's page template, style sheet and script:
// embedded, so that the page needs nothing from outside the process.
//
//go:embed console/console.html console/console.css console/console.js
var consoleFiles embed.FS

// ConsoleCSP is the console's Content-Security-Policy: nothing inline,
// nothing from elsewhere, no framing, and forms that post only here.
const ConsoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// Console is what the console needs. Explain and Decisions are
// required; the rest are optional columns, shown when set.
type Console struct {
	// Explain builds the JSON report of an explained decision, as
	// "assignd explain -format json" prints it (explain.JSON). It is a
	// function so that the admin listener need not build REST forms.
	Explain func(*policy.Policy, policy.Explanation) ([]byte, error)
	// Decisions is the recent decisions and per-rule counts; feed it with
	// Options.AfterDecision.
	Decisions *DecisionLog
	// Shadow, when set, summarizes a rule's shadow agreement ("" for none).
	Shadow func(rule string) string
	// Outcomes, when set, summarizes how a rule's reservations ended ("" for
	// none).
	Outcomes func(rule string) string
	// Started is when the process started: the counts are since then.
	Started time.Time
	// Banner, when set, is shown at the top of every page: the embedded
	// example policy running, say.
	Banner string
}

// console serves the page and the explain API.
type console struct {
	s    *Server
	opts Console
	log  *zap.Logger
	tmpl *template.Template
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

// consoleRule is one row of the rules table.
type consoleRule struct {
	policy.RuleView
	Counts   RuleCounts
	Shadow   string
	Outcomes string
}

// consolePage is what the page template renders.
type consolePage struct {
	Banner         string
	Ready          bool
	NotReady       string
	File, Hash     string
	LoadedAt       string
	LastLoadAt     string
	LastLoadOK     bool
	LastProblems   []string
	PolicyWarnings []string
	Rules          []consoleRule
	ShowShadow     bool
	ShowOutcomes   bool
	Recent         []RecentDecision
	RecentSize     int
	Started        string
}

func (c *console) page(ctx echo.Context) error {
	securityHeaders(ctx.Response().Header())
	ctx.Response().Header().Set("Cache-Control", "no-store")
	data := c.pageData()
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

func (c *console) pageData() consolePage {
	d := consolePage{Banner: c.opts.Banner, RecentSize: RecentSize, Started: stamp(c.opts.Started),
		ShowShadow: c.opts.Shadow != nil, ShowOutcomes: c.opts.Outcomes != nil}
	d.Ready, d.NotReady = c.s.ready()
	last := c.s.store.LastLoad()
	d.LastLoadAt, d.LastLoadOK, d.LastProblems = stamp(last.At), last.Err == nil, last.Problems()
	d.Recent = c.opts.Decisions.Recent()
	p := c.s.store.Current()
	if p == nil {
		return d
	}
	d.File, d.Hash, d.LoadedAt = p.File(), p.Hash(), stamp(c.s.store.LoadedAt())
	d.PolicyWarnings = p.PolicyWarnings()
	for _, v := range p.RuleViews() {
		r := consoleRule{RuleView: v, Counts: c.opts.Decisions.Counts(v.Name)}
		if c.opts.Shadow != nil {
			r.Shadow = c.opts.Shadow(v.Name)
		}
		if c.opts.Outcomes != nil {
			r.Outcomes = c.opts.Outcomes(v.Name)
		}
		d.Rules = append(d.Rules, r)
	}
	return d
}
