package deploy

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// rulesFile holds assignd's alerting rules as Prometheus reads them;
// rulesTestFile their promtool unit tests; runbookFile the runbook the
// alerts link to.
var (
	rulesFile     = filepath.Join("prometheus", "assignd-rules.yaml")
	rulesTestFile = filepath.Join("prometheus", "assignd-rules_test.yaml")
	runbookFile   = filepath.Join("..", "docs", "runbook.md")
)

// runbookURL is where every alert's runbook_url points, before the anchor.
const runbookURL = "https://github.com/assignd/assignd/blob/main/docs/runbook.md"

// ruleGroups is the groups of a Prometheus rules file, and of a
// PrometheusRule's spec.
type ruleGroups []struct {
	Name  string `json:"name"`
	Rules []struct {
		Alert       string            `json:"alert"`
		Expr        string            `json:"expr"`
		For         string            `json:"for,omitempty"`
		Labels      map[string]string `json:"labels,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	} `json:"rules"`
}

// rulesFileGroups decodes rulesFile strictly.
func rulesFileGroups(t *testing.T) ruleGroups {
	t.Helper()
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups ruleGroups `json:"groups"`
	}
	if err := strictDecodeYAML(data, &f); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	return f.Groups
}

// ruleGroupsJSON is a canonical form of rule groups for comparison.
func ruleGroupsJSON(t *testing.T, g any) string {
	t.Helper()
	j, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}

// githubAnchor is the anchor GitHub gives a Markdown heading: lower case,
// spaces to hyphens, punctuation other than hyphens and underscores dropped.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// runbookSections maps each second-level heading's anchor of the runbook
// to the section's text.
func runbookSections(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	parts := regexp.MustCompile(`(?m)^## `).Split(string(data), -1)
	for _, p := range parts[1:] {
		heading, body, _ := strings.Cut(p, "\n")
		sections[githubAnchor(heading)] = body
	}
	return sections
}

// TestAlertRules checks what every alert must carry and that its runbook
// section exists and says what the alert means, how to confirm it and what
// to do; and that the PrometheusRule of the monitoring component holds the
// same groups as the rules file.
func TestAlertRules(t *testing.T) {
	groups := rulesFileGroups(t)
	sections := runbookSections(t)
	linked := map[string]bool{}
	var alerts int
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			for _, key := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[key]) == "" {
					t.Errorf("%s has no %s", r.Alert, key)
				}
			}
			if r.Labels["severity"] == "" {
				t.Errorf("%s has no severity", r.Alert)
			}
			u, err := url.Parse(r.Annotations["runbook_url"])
			if err != nil || strings.TrimSuffix(r.Annotations["runbook_url"], "#"+u.Fragment) != runbookURL {
				t.Errorf("%s: runbook_url %q is not a section of %s", r.Alert, r.Annotations["runbook_url"], runbookURL)
				continue
			}
			body, ok := sections[u.Fragment]
			if !ok {
				t.Errorf("%s: %s has no heading with the anchor #%s", r.Alert, runbookFile, u.Fragment)
				continue
			}
			linked[u.Fragment] = true
			for _, part := range []string{"**Meaning.**", "**Confirm.**", "**Act.**"} {
				if !strings.Contains(body, part) {
					t.Errorf("%s: its runbook section lacks %s", r.Alert, part)
				}
			}
		}
	}
	if alerts < 8 {
		t.Errorf("%d alerts, want at least 8", alerts)
	}
	for anchor := range sections {
		if !linked[anchor] {
			t.Errorf("runbook section #%s belongs to no alert", anchor)
		}
	}
	t.Run("the PrometheusRule holds the rules file", func(t *testing.T) {
		pr := only(t, "PrometheusRule", renderWith(t, gatewayComponent, monitoringComponent).prometheusRules)
		if ruleGroupsJSON(t, pr.Spec.Groups) != ruleGroupsJSON(t, groups) {
			t.Errorf("the monitoring component's PrometheusRule differs from %s: copy its groups", rulesFile)
		}
	})
	t.Run("anchors", func(t *testing.T) {
		for heading, want := range map[string]string{
			"AssigndPodNotReady": "assigndpodnotready", "Signatures behind an ingress": "signatures-behind-an-ingress",
			"Update mode: reservation updates": "update-mode-reservation-updates",
		} {
			if got := githubAnchor(heading); got != want {
				t.Errorf("githubAnchor(%q) = %q, want %q", heading, got, want)
			}
		}
	})
}

// TestPromtool runs promtool's checks and the rules' unit tests when
// promtool is installed (.ci/run installs it).
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian: apt-get install prometheus)")
	}
	for _, args := range [][]string{{"check", "rules", rulesFile}, {"test", "rules", rulesTestFile}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
