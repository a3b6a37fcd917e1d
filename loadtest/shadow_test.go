//go:build loadtest

package loadtest

import (
	"bufio"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/assignd/assignd/policy"
)

var heavyShadowFlag = flag.Int("heavy-shadow", 10_000, "rules in TestShadowCost's heavy shadow policy")

// TestShadowCost measures what a heavy shadow policy costs live traffic:
// assignd with the -rules policy and no shadow, then with a -heavy-shadow
// rule shadow that every callback reaches the end of, each over a
// saturation run of -conns connections and one of a single connection. It
// logs throughput and p99 of each, the ratios heavy/none, and how many
// callbacks the shadow decided and dropped. Run it alone:
//
//	nice go test -tags loadtest ./loadtest -run TestShadowCost -v -args -duration 5s
func TestShadowCost(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	pool := signedPool(t, callPath, callbackForm)
	runs := []int{*connsFlag, 1}
	var results []result
	for _, shadowRules := range []int{0, *heavyShadowFlag} {
		name := "no shadow"
		if shadowRules > 0 {
			name = fmt.Sprintf("%d-rule shadow", shadowRules)
		}
		src := ""
		if shadowRules > 0 {
			src = heavyShadow(shadowRules)
		}
		s := startAssignd(t, root, t.TempDir(), src)
		closedLoop(s, pool, *connsFlag, *warmupFlag)
		for _, conns := range runs {
			r := result{server: name, run: fmt.Sprintf("saturation %d conns", conns)}
			mon := s.monitor()
			r.stats = closedLoop(s, pool, conns, *durationFlag)
			r.elapsed = r.stats.duration
			r.cpu, r.goroutines = mon.stop()
			r.rssHWM = s.vmHWM()
			t.Log(r.String())
			results = append(results, r)
		}
		if shadowRules > 0 {
			decided := s.metric("assignd_shadow_decisions_total")
			t.Logf("%s: the shadow decided %.0f callbacks and dropped %.0f", name, decided, s.metric("assignd_shadow_dropped_total"))
			if decided < 1 {
				t.Fatalf("the shadow decided nothing: it did not load\n%s", tail(readFile(s.logFile.Name()), 2000))
			}
		}
		s.stop(t)
	}
	t.Log("\n" + table(results))
	for i, conns := range runs {
		none, heavy := results[i], results[len(runs)+i]
		t.Logf("%d conns, %d-rule shadow / no shadow: throughput %.2f, p99 %.2f", conns, *heavyShadowFlag,
			heavy.throughput()/none.throughput(),
			float64(heavy.stats.percentile(.99))/float64(none.stats.percentile(.99)))
	}
}

// metric is the sum of every series of name on the server's metrics.
func (s *server) metric(name string) float64 {
	resp, err := http.Get(s.statsURL)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "{")) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

// heavyShadow is a shadow policy of n rules written compactly, to stay
// within the policy file size limit: rule r<i> accepts a task whose
// language is "l<i>", and the last, the catch-all, answers as the live
// policy's does, so every callback of the pool is decided by the
// catch-all after n-1 conditions and the shadow agrees.
func heavyShadow(n int) string {
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n")
	for i := range n - 1 {
		fmt.Fprintf(&b, "- {name: r%d, when: 'task.language == \"l%d\"', instruction: accept}\n", i, i)
	}
	b.WriteString("- {name: default, instruction: dequeue, params: {from: \"+15005550006\", to: \"client:default\"}}\n")
	return b.String()
}

// TestHeavyShadowLoads checks that TestShadowCost's shadow is a policy
// assignd loads: within the file size limit, and parsed.
func TestHeavyShadowLoads(t *testing.T) {
	src := heavyShadow(*heavyShadowFlag)
	if len(src) > policy.MaxFileSize {
		t.Fatalf("%d bytes, beyond the %d-byte limit", len(src), policy.MaxFileSize)
	}
	if _, err := policy.Parse("shadow.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
}
