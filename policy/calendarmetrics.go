package policy

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assignd/assignd/policy/calendar"
)

var calendarOpenDesc = prometheus.NewDesc("assignd_calendar_open",
	"1 if the calendar is open now (overrides, holidays and hours applied), 0 if not; evaluated at scrape.",
	[]string{"calendar"}, nil)

// CalendarCollector exports assignd_calendar_open{calendar} for each
// calendar of the running policy, evaluated when scraped, so that the
// gauge flips at the minute a calendar opens or closes without a ticker.
type CalendarCollector struct {
	policy    func() *Policy
	overrides func() *calendar.Overrides
	now       func() time.Time
}

// NewCalendarCollector returns a collector reading the running policy and
// overrides through the given functions (Store.Current and
// OverridesStore.Current); overrides may be nil.
func NewCalendarCollector(policy func() *Policy, overrides func() *calendar.Overrides) *CalendarCollector {
	return &CalendarCollector{policy: policy, overrides: overrides, now: time.Now}
}

// Describe sends the gauge's description.
func (c *CalendarCollector) Describe(ch chan<- *prometheus.Desc) { ch <- calendarOpenDesc }

// Collect evaluates every calendar of the running policy now.
func (c *CalendarCollector) Collect(ch chan<- prometheus.Metric) {
	p := c.policy()
	if p == nil {
		return
	}
	var ov *calendar.Overrides
	if c.overrides != nil {
		ov = c.overrides()
	}
	now := c.now()
	for _, name := range p.calendars.Names() {
		v := 0.0
		if p.calendars.Lookup(name).State(now, ov.For(name)).Open {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(calendarOpenDesc, prometheus.GaugeValue, v, name)
	}
}
