package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/assignd/assignd/api"
	"github.com/assignd/assignd/outcome"
)

// serverTimeout bounds explain's request to a running server.
const serverTimeout = 5 * time.Second

// writeServerOutcomes fetches GET /-/policy from the admin listener at base
// and prints each rule's reservation outcome counts, as that replica saw
// them, warning when it runs another policy than the one explained.
func writeServerOutcomes(w io.Writer, base, localHash string) error {
	client := &http.Client{Timeout: serverTimeout}
	resp, err := client.Get(strings.TrimRight(base, "/") + "/-/policy")
	if err != nil {
		return fmt.Errorf("fetching the running policy: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching the running policy: %s", resp.Status)
	}
	var sp api.PolicyInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&sp); err != nil {
		return fmt.Errorf("reading the running policy: %w", err)
	}
	fmt.Fprintf(w, "outcomes on %s (policy %s):\n", base, sp.Hash)
	if sp.Hash != localHash {
		fmt.Fprintf(w, "  note: the server runs another policy than the one explained (%s)\n", localHash)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, rule := range sp.Rules {
		c := sp.Outcomes[rule]
		fmt.Fprintf(tw, "  %s\tremembered %s\trecomputed %s\n", rule, countsText(c.Remembered), countsText(c.Recomputed))
	}
	return tw.Flush()
}

// countsText prints counts in outcome order, "-" when there are none.
func countsText(counts map[outcome.Outcome]uint64) string {
	var parts []string
	for _, o := range outcome.Outcomes {
		if n := counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", o, n))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(slices.Clip(parts), " ")
}
