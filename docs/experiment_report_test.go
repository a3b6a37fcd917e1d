package docs

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/assignd/assignd/experiments"
	"github.com/assignd/assignd/outcome"
)

// reportMarker marks the experiment reports in docs/policy.md that show a
// server after hours of traffic: no test can wait for that, so
// TestExperimentReportsShown rebuilds each from the counts it shows.
const reportMarker = "no-exec: checked by TestExperimentReportsShown, which rebuilds the report from the counts it shows"

var armRowRE = regexp.MustCompile(`^  (\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+%\s+\[[^\]]*\]\s+([\d.]+)%`)

// TestExperimentReportsShown: each such report is what package
// experiments renders for the decisions, offers, acceptances and timeouts
// it shows (the rejections make up the rest of the offers), so that the
// rates, intervals, tests and planner on the page are the code's.
func TestExperimentReportsShown(t *testing.T) {
	p := readPage(t, "docs/policy.md")
	n := 0
	for _, b := range p.blocks {
		if b.marker != reportMarker {
			continue
		}
		n++
		want := strings.Join(b.lines[1:], "\n") + "\n"
		if !rebuildsReport(t, b.lines[1:], want) {
			t.Errorf("docs/policy.md:%d: no counts consistent with the report render it as shown", b.start)
		}
	}
	if n != 2 {
		t.Errorf("found %d reports marked %q, want 2", n, reportMarker)
	}
}

// rebuildsReport tries every timeout count that rounds to each arm's shown
// timeout rate and reports whether one set of counts renders want.
func rebuildsReport(t *testing.T, lines []string, want string) bool {
	t.Helper()
	var name string
	mde := experiments.DefaultMDE
	var arms []experiments.Counts
	var timeouts [][]uint64
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "experiment "); ok {
			name = v
		}
		if v, ok := strings.CutPrefix(l, "planner: detect "); ok {
			pts, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
			mde = pts / 100
		}
		m := armRowRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		dec, _ := strconv.ParseUint(m[2], 10, 64)
		offers, _ := strconv.ParseUint(m[3], 10, 64)
		acc, _ := strconv.ParseUint(m[4], 10, 64)
		var cands []uint64
		for to := uint64(0); to <= offers-acc; to++ {
			if strconv.FormatFloat(100*float64(to)/float64(offers), 'f', 1, 64) == m[5] {
				cands = append(cands, to)
			}
		}
		arms = append(arms, experiments.Counts{Arm: m[1], Decisions: dec, Outcomes: map[outcome.Outcome]uint64{outcome.Accepted: acc, outcome.Rejected: offers - acc}})
		timeouts = append(timeouts, cands)
	}
	if name == "" || len(arms) == 0 {
		t.Fatalf("no experiment or arms in the report:\n%s", want)
	}
	var try func(i int) bool
	try = func(i int) bool {
		if i == len(arms) {
			counts := make([]experiments.Counts, len(arms))
			for j, a := range arms {
				counts[j] = a
				counts[j].Experiment = name
			}
			var buf bytes.Buffer
			if err := experiments.Build(counts, mde).WriteText(&buf); err != nil {
				t.Fatal(err)
			}
			return buf.String() == want
		}
		offers := arms[i].Outcomes[outcome.Accepted] + arms[i].Outcomes[outcome.Rejected] + arms[i].Outcomes[outcome.Timeout]
		for _, to := range timeouts[i] {
			arms[i].Outcomes = map[outcome.Outcome]uint64{outcome.Accepted: arms[i].Outcomes[outcome.Accepted], outcome.Timeout: to,
				outcome.Rejected: offers - arms[i].Outcomes[outcome.Accepted] - to}
			if try(i + 1) {
				return true
			}
		}
		return false
	}
	return try(0)
}
