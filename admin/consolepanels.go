package admin

import (
	"strconv"
	"time"

	"github.com/assignd/assignd/decisionlog"
	"github.com/assignd/assignd/experiments"
	"github.com/assignd/assignd/policy"
	"github.com/assignd/assignd/policy/calendar"
)

// formatUint prints a count.
func formatUint(n uint64) string { return strconv.FormatUint(n, 10) }

// shadowPanel is the shadow policy: which file and hash, and agreement
// overall and per live rule, since the shadow policy loaded.
type shadowPanel struct {
	Configured  bool
	Loaded      bool
	File, Hash  string
	LoadedAt    string
	Since       string
	Total       uint64
	Same        uint64
	Params      uint64
	Instruction uint64
	Agreement   string
	Unevaluated uint64
	Rules       []shadowRule
	// index finds a rule's row in Rules, so that the per-rule column
	// costs one lookup a rule, not a scan.
	index map[string]int
}

// shadowRule is one live rule's agreement with the shadow policy.
type shadowRule struct {
	Rule                             string
	Total, Same, Params, Instruction uint64
	Agreement                        string
}

func (c *console) shadowPanel() shadowPanel {
	if c.opts.ShadowAgreement == nil {
		return shadowPanel{}
	}
	a := c.opts.ShadowAgreement()
	sp := shadowPanel{Configured: true, Since: stamp(a.SinceLoad.Since), Total: a.SinceLoad.Total, Same: a.SinceLoad.Same,
		Params: a.SinceLoad.Params, Instruction: a.SinceLoad.Instruction, Unevaluated: a.Unevaluated}
	sp.Agreement = percent(sp.Same, sp.Total)
	if a.Shadow != nil {
		sp.Loaded, sp.File, sp.Hash, sp.LoadedAt = true, a.Shadow.File, a.Shadow.Hash, stamp(a.Shadow.LoadedAt)
	}
	for _, c := range a.SinceLoad.ByRule() {
		sp.Rules = append(sp.Rules, shadowRule{Rule: c.Rule, Total: c.Total, Same: c.Same, Params: c.Params, Instruction: c.Instruction})
	}
	sp.index = make(map[string]int, len(sp.Rules))
	for i := range sp.Rules {
		sp.Rules[i].Agreement = percent(sp.Rules[i].Same, sp.Rules[i].Total)
		sp.index[sp.Rules[i].Rule] = i
	}
	return sp
}

// ruleAgreement says how often the shadow policy agreed on rule's
// callbacks: "" when it has seen none.
func (sp shadowPanel) ruleAgreement(rule string) string {
	if i, ok := sp.index[rule]; ok && sp.Rules[i].Total > 0 {
		r := sp.Rules[i]
		return r.Agreement + " same (" + formatUint(r.Same) + " of " + formatUint(r.Total) + ")"
	}
	return ""
}

// calendarsPanel is each calendar's state now and its next change.
type calendarsPanel struct {
	Calendars []policy.CalendarStatus
	// Overrides is false when the console has no overrides source.
	Overrides bool
}

func (c *console) calendarsPanel(p *policy.Policy, now time.Time) calendarsPanel {
	set := p.Calendars()
	if set == nil {
		return calendarsPanel{}
	}
	cp := calendarsPanel{Overrides: c.opts.CalendarOverrides != nil}
	var ov *calendar.Overrides
	if c.opts.CalendarOverrides != nil {
		ov = c.opts.CalendarOverrides()
	}
	for _, name := range set.Names() {
		if st, ok := p.CalendarStatus(name, now, ov); ok {
			cp.Calendars = append(cp.Calendars, st)
		}
	}
	return cp
}

// tablesPanel is the policy's tables.
type tablesPanel struct{ Tables []tableRow }

// tableRow is one table as the console lists it.
type tableRow struct {
	Name, File, Key, Hash string
	Rows                  int
}

func tablesOf(p *policy.Policy) tablesPanel {
	var tp tablesPanel
	for _, t := range p.Tables() {
		tp.Tables = append(tp.Tables, tableRow{Name: t.Name(), File: t.File(), Key: t.Key(), Hash: t.Hash(), Rows: t.Rows()})
	}
	return tp
}

// experimentsPanel is each experiment's arms with their rates.
type experimentsPanel struct {
	Configured bool
	Arms       []armRow
}

// armRow is one arm of one experiment.
type armRow struct {
	Experiment, Arm     string
	Decisions, Offers   uint64
	Acceptance, Timeout string
	AcceptanceInterval  string
	TimeoutInterval     string
}

func (c *console) experimentsPanel() experimentsPanel {
	if c.opts.Experiments == nil {
		return experimentsPanel{}
	}
	ep := experimentsPanel{Configured: true}
	r := c.opts.Experiments()
	if r == nil {
		return ep
	}
	for _, e := range r.Experiments {
		for _, a := range e.Arms {
			ep.Arms = append(ep.Arms, armRow{Experiment: e.Name, Arm: a.Name, Decisions: a.Decisions, Offers: a.Offers,
				Acceptance: ratePct(a.Acceptance.Rate), AcceptanceInterval: interval(a.Acceptance),
				Timeout: ratePct(a.Timeout.Rate), TimeoutInterval: interval(a.Timeout)})
		}
	}
	return ep
}

// ratePct prints a proportion as a percentage.
func ratePct(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

// interval prints a rate's 95% interval.
func interval(r experiments.Rate) string { return ratePct(r.Lo) + "–" + ratePct(r.Hi) }

// decisionLogPanel is the decision-log sink's health.
type decisionLogPanel struct {
	Configured bool
	decisionlog.Health
	LastErrorAt string
}

func (c *console) decisionLogPanel() decisionLogPanel {
	if c.opts.DecisionLogHealth == nil {
		return decisionLogPanel{}
	}
	h := c.opts.DecisionLogHealth()
	return decisionLogPanel{Configured: true, Health: h, LastErrorAt: stamp(h.LastErrorAt)}
}
