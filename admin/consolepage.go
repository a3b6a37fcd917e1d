package admin

import (
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/assignd/assignd/outcome"
	"github.com/assignd/assignd/policy"
)

// consolePage is what the page template renders.
type consolePage struct {
	Header         pageHeader
	Status         ConsoleStatus
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
	Minutes        int
	Edge           edgeHealth
	Shadow         shadowPanel
	Calendars      calendarsPanel
	Tables         tablesPanel
	Experiments    experimentsPanel
	DecisionLog    decisionLogPanel
	Recent         recentPanel
	Started        string
}

// pageHeader is which pod this is and what it runs.
type pageHeader struct {
	Host, Version, Uptime string
	Hash, LoadedAt        string
}

// consoleRule is one rule: its definition and what it has done.
type consoleRule struct {
	policy.RuleView
	Counts RuleCounts
	// Share is the rule's part of all decisions, ShareW the same as an
	// SVG width.
	Share, ShareW string
	Spark         sparkline
	// Outcomes are the accepted, rejected and timeout parts of the rule's
	// reservation outcomes; OutcomeText says them in words.
	Outcomes    []segment
	OutcomeText string
	Shadow      string
}

// outcomeBar are the outcomes the per-rule bar stacks.
var (
	outcomeBar      = []outcome.Outcome{outcome.Accepted, outcome.Rejected, outcome.Timeout}
	outcomeBarNames = []string{"accepted", "rejected", "timeout"}
)

func (c *console) pageData(f recentFilter) consolePage {
	now := c.s.now()
	d := consolePage{Started: stamp(c.opts.Started), Minutes: Minutes,
		ShowShadow:   c.opts.Shadow != nil || c.opts.ShadowAgreement != nil,
		ShowOutcomes: c.s.outcomes != nil || c.opts.Outcomes != nil,
		Header:       pageHeader{Host: c.host, Version: c.opts.Version, Uptime: uptime(c.opts.Started, now)},
		Edge:         readEdge(c.s.gatherer), DecisionLog: c.decisionLogPanel(), Experiments: c.experimentsPanel()}
	d.Ready, d.NotReady = c.s.ready()
	last := c.s.store.LastLoad()
	d.LastLoadAt, d.LastLoadOK, d.LastProblems = stamp(last.At), last.Err == nil, last.Problems()
	p := c.s.store.Current()
	d.Status = c.status(p, last)
	d.Shadow = c.shadowPanel()
	d.Recent = c.recentPanel(p, f)
	if p == nil {
		return d
	}
	d.File, d.Hash, d.LoadedAt = p.File(), p.Hash(), stamp(c.s.store.LoadedAt())
	d.Header.Hash, d.Header.LoadedAt = d.Hash, d.LoadedAt
	d.PolicyWarnings = p.PolicyWarnings()
	d.Rules = c.rules(p, now, d.Shadow)
	d.Calendars = c.calendarsPanel(p, now)
	d.Tables = tablesOf(p)
	return d
}

// rules builds the per-rule rows: definition, share, sparkline, outcomes
// and shadow agreement.
func (c *console) rules(p *policy.Policy, now time.Time, sh shadowPanel) []consoleRule {
	views := p.RuleViews()
	out := make([]consoleRule, len(views))
	var total uint64
	for i, v := range views {
		out[i] = consoleRule{RuleView: v, Counts: c.opts.Decisions.Counts(v.Name)}
		total += out[i].Counts.Decisions
	}
	var shadowByRule map[string]string
	if !sh.Configured && c.opts.Shadow != nil {
		shadowByRule = c.opts.Shadow()
	}
	var outcomes map[string]outcome.RuleCounts
	if c.s.outcomes != nil {
		outcomes = c.s.outcomes.Counts()
	}
	for i := range out {
		r := &out[i]
		r.Share = percent(r.Counts.Decisions, total)
		if total > 0 {
			r.ShareW = pct(100 * float64(r.Counts.Decisions) / float64(total))
		}
		counts := c.opts.Decisions.PerMinute(r.Name, now)
		r.Spark = newSparkline(counts[:])
		switch {
		case c.s.outcomes != nil:
			r.Outcomes, r.OutcomeText = outcomeSegments(outcomes[r.Name])
		case c.opts.Outcomes != nil:
			r.OutcomeText = c.opts.Outcomes(r.Name)
		}
		switch {
		case sh.Configured:
			r.Shadow = sh.ruleAgreement(r.Name)
		case shadowByRule != nil:
			r.Shadow = shadowByRule[r.Name]
		}
	}
	return out
}

// outcomeSegments stacks a rule's accepted, rejected and timeout counts,
// remembered and recomputed together.
func outcomeSegments(rc outcome.RuleCounts) ([]segment, string) {
	counts := make([]uint64, len(outcomeBar))
	for i, o := range outcomeBar {
		counts[i] = rc.Remembered[o] + rc.Recomputed[o]
	}
	segs := stack(outcomeBarNames, outcomeBarNames, counts)
	if segs == nil {
		return nil, ""
	}
	text := ""
	for i, s := range segs {
		if i > 0 {
			text += ", "
		}
		text += s.Name + " " + formatUint(s.Count)
	}
	return segs, text
}

// status is the banners' facts: from Console.Status, or else from the
// store: the example's file name, and a failed last load.
func (c *console) status(p *policy.Policy, last policy.LoadResult) ConsoleStatus {
	if c.opts.Status != nil {
		return c.opts.Status()
	}
	var st ConsoleStatus
	if p != nil && p.File() == policy.ExampleName {
		st.Example = true
	}
	if last.Err != nil {
		st.Problems = last.Problems()
		st.BrokenFile = "the policy file"
		if p != nil && p.File() != policy.ExampleName {
			st.BrokenFile = p.File()
		}
	}
	return st
}

// uptime is how long the process has run, to the second.
func uptime(started, now time.Time) string {
	if started.IsZero() {
		return ""
	}
	return now.Sub(started).Round(time.Second).String()
}

// recentFilter narrows the recent decisions: empty fields match all.
type recentFilter struct{ Rule, Instruction string }

// parseFilter reads the filter from the query parameters rule and
// instruction, so that filtering works without JavaScript.
func parseFilter(ctx echo.Context) recentFilter {
	return recentFilter{Rule: ctx.QueryParam("rule"), Instruction: ctx.QueryParam("instruction")}
}

// recentPanel is the recent decisions, filtered, with the choices the
// filter form offers.
type recentPanel struct {
	Size, Kept   int
	Filter       recentFilter
	Filtered     bool
	Decisions    []RecentDecision
	Rules        []string
	Instructions []string
}

func (c *console) recentPanel(p *policy.Policy, f recentFilter) recentPanel {
	all := c.opts.Decisions.Recent()
	rp := recentPanel{Size: RecentSize, Kept: len(all), Filter: f, Filtered: f.Rule != "" || f.Instruction != ""}
	for _, d := range all {
		if (f.Rule == "" || d.Rule == f.Rule) && (f.Instruction == "" || d.Instruction == f.Instruction) {
			rp.Decisions = append(rp.Decisions, d)
		}
	}
	if p != nil {
		for _, v := range p.RuleViews() {
			rp.Rules = append(rp.Rules, v.Name)
			if !slices.Contains(rp.Instructions, v.Instruction) {
				rp.Instructions = append(rp.Instructions, v.Instruction)
			}
		}
	}
	slices.Sort(rp.Instructions)
	return rp
}
