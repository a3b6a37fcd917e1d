package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/assignd/assignd/api"
	"github.com/assignd/assignd/explain"
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

// explainRemote asks the running server at f.server to explain the
// callback with its own policy, through POST /-/explain; a nil report
// comes with the exit code, its reason already printed.
func explainRemote(f explainFlags, stdin io.Reader, stderr io.Writer) (*explain.Report, int) {
	req := map[string]any{}
	if f.captured != "" {
		body, err := readCallback(f.captured, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "explain: reading callback: %v\n", err)
			return nil, 2
		}
		req["callback"] = string(body)
	} else {
		req["task"], req["worker"] = json.RawMessage(f.task), json.RawMessage(f.worker)
	}
	if len(f.sets) > 0 {
		fields := map[string]string{}
		for _, s := range f.sets {
			k, v, ok := strings.Cut(s, "=")
			if !ok || k == "" {
				return nil, usageError(stderr, "explain", "-set %q: want Field=Value", s)
			}
			fields[k] = v
		}
		req["fields"] = fields
	}
	if f.at != "" {
		req["now"] = f.at
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, usageError(stderr, "explain", "-task or -worker is not JSON: %v", err)
	}
	r, err := postExplain(f.server, body)
	if err != nil {
		fmt.Fprintf(stderr, "explain: -server: %v\n", err)
		return nil, 1
	}
	return r, 0
}

// postExplain posts body to base's POST /-/explain and decodes the report.
func postExplain(base string, body []byte) (*explain.Report, error) {
	client := &http.Client{Timeout: serverTimeout}
	resp, err := client.Post(strings.TrimRight(base, "/")+"/-/explain", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("explaining on the server: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the server's explanation: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("the server answered %s: %s", resp.Status, e.Error)
		}
		return nil, fmt.Errorf("the server answered %s", resp.Status)
	}
	var r explain.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("reading the server's explanation: %w", err)
	}
	// The report's JSON is indented; the reply is shown as sent, compact.
	var reply bytes.Buffer
	if err := json.Compact(&reply, r.Reply); err == nil {
		r.Reply = reply.Bytes()
	}
	return &r, nil
}
