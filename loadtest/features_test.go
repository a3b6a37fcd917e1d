//go:build loadtest

package loadtest

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assignd/assignd/internal/testkit"
)

// tableRowsFlag sizes the table TestLoadTableReload reloads.
var tableRowsFlag = flag.Int("table-rows", 1_000_000, "rows of the table TestLoadTableReload replaces during a run")

// tablePolicy is PolicySource(rules) with a table keyed by task.call_sid,
// which the last rule before the catch-all reads: every callback fails the
// other rules, then probes the table and hits.
func tablePolicy(rules int) string {
	src := testkit.PolicySource(rules)
	src = strings.Replace(src, "version: 1\n", "version: 1\ntables:\n  vip:\n    file: vip.csv\n    key: call_sid\n", 1)
	return strings.Replace(src, "  - name: default\n",
		"  - name: vip\n    when: tables.vip[task.call_sid].tier == \"gold\"\n    instruction: dequeue\n"+
			"    params: {from: \"+15005550006\", to: \"{{tables.vip[task.call_sid].desk}}\"}\n  - name: default\n", 1)
}

// writeTable writes a table of rows rows: call_sid, tier, desk. The pool's
// callbacks have the first poolSize call SIDs; generation varies the desk,
// so that each file has its own hash.
func writeTable(t *testing.T, file string, rows, generation int) {
	t.Helper()
	f, err := os.Create(file + ".tmp")
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "call_sid,tier,desk")
	for i := range rows {
		fmt.Fprintf(w, "CA%032x,gold,client:d%d-%d\n", i, generation, i%100)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// A rename, as a ConfigMap update or a careful deploy writes it: the
	// reloader never reads half a file.
	if err := os.Rename(file+".tmp", file); err != nil {
		t.Fatal(err)
	}
}

// reloadWait bounds the wait for a large table's reload.
const reloadWait = 2 * time.Minute

// waitForHash waits until the running policy's hash is no longer old.
func waitForHash(t *testing.T, s *server, old string) {
	t.Helper()
	for start := time.Now(); policyHash(t, s) == old; time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > reloadWait {
			t.Fatalf("the table was not reloaded within %s\n%s", reloadWait, tail(readFile(s.logFile.Name()), 2000))
		}
	}
}

// policyHash reads the running policy's hash from GET /-/policy.
func policyHash(t *testing.T, s *server) string {
	t.Helper()
	resp, err := http.Get(s.admin + "/-/policy")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_, rest, _ := strings.Cut(string(b), `"hash":"`)
	hash, _, _ := strings.Cut(rest, `"`)
	return hash
}

// TestLoadTableReload measures the callback latency while a table of
// -table-rows rows is replaced on disk: a constant-rate run without a
// reload, then one during which the file is replaced a third of the way
// in. The new bundle is built aside and swapped in one atomic store, so
// the two p99s should be alike; the test logs them and their ratio, and
// asserts only that the reload happened and every callback was answered.
//
//	nice taskset -c 1 go test -tags loadtest ./loadtest -run TestLoadTableReload -v -args -rate 1000 -duration 6s
func TestLoadTableReload(t *testing.T) {
	dir := t.TempDir()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// The server starts on a small table, which readiness allows for,
	// and loads the large one before the runs.
	tableFile := filepath.Join(dir, "vip.csv")
	writeTable(t, tableFile, poolSize, 0)
	s := startAssigndWith(t, root, dir, "assignd-tables", tablePolicy(*rulesFlag), nil)
	defer s.stop(t)
	small := policyHash(t, s)
	writeTable(t, tableFile, *tableRowsFlag, 1)
	waitForHash(t, s, small)
	pool := signedPool(t, callPath, callbackForm)
	closedLoop(s, pool, *connsFlag, *warmupFlag)

	before := policyHash(t, s)
	quiet := measured(s, "no reload", func() *stats { return openLoop(s, pool, *rateFlag, *workersFlag, *durationFlag) })
	t.Log(quiet.String())

	replaced := make(chan time.Duration, 1)
	go func() {
		time.Sleep(*durationFlag / 3)
		start := time.Now()
		writeTable(t, tableFile, *tableRowsFlag, 2)
		for policyHash(t, s) == before && time.Since(start) < reloadWait {
			time.Sleep(20 * time.Millisecond)
		}
		replaced <- time.Since(start)
	}()
	during := measured(s, fmt.Sprintf("%d-row reload", *tableRowsFlag),
		func() *stats { return openLoop(s, pool, *rateFlag, *workersFlag, *durationFlag) })
	took := <-replaced
	t.Log(during.String())
	if policyHash(t, s) == before {
		t.Fatalf("the table was not reloaded within %s", reloadWait)
	}
	for _, r := range []result{quiet, during} {
		if r.stats.non200+r.stats.errs > 0 {
			t.Errorf("%s: %d non-200 answers, %d errors", r.run, r.stats.non200, r.stats.errs)
		}
	}
	t.Logf("table reload of %d rows: written and swapped in %s; callback p99 %s during the run with it, %s without (ratio %.2f)",
		*tableRowsFlag, took.Round(time.Millisecond), during.stats.percentile(.99).Round(time.Microsecond),
		quiet.stats.percentile(.99).Round(time.Microsecond),
		float64(during.stats.percentile(.99))/float64(max(quiet.stats.percentile(.99), 1)))
	t.Log("\n" + table([]result{quiet, during}))
}

// measured is one run of s by run, with the server's CPU time, peak
// goroutines and peak RSS.
func measured(s *server, name string, run func() *stats) result {
	r := result{server: s.name, run: name}
	mon := s.monitor()
	start := time.Now()
	r.stats = run()
	r.elapsed = time.Since(start)
	r.cpu, r.goroutines = mon.stop()
	r.rssHWM = s.vmHWM()
	return r
}

// stopStalled ends a server whose decision log cannot flush to its
// stalled collector: after SIGTERM it gives up within its shutdown
// timeout, counts the records left as failed and exits 1, which is what
// it should do.
func stopStalled(t *testing.T, s *server) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("stopping %s: %v", s.name, err)
	}
	select {
	case err := <-s.exited:
		s.exited <- err
		t.Logf("%s stopped: %v (the stalled collector's records could not be flushed)", s.name, err)
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30s of SIGTERM with a stalled collector", s.name)
		s.kill()
	}
}

// TestLoadDecisionLog measures callback throughput with the decision log
// off, on a file sink and on a stalled HTTP collector (one that never
// answers), one server after another, each with a warm-up and a
// saturation run. A decision never waits for a sink, so the file sink
// should be within 10% of off and the stalled collector should drop
// records rather than slow callbacks; the test logs the throughputs and
// their ratios to off, and asserts only that every callback was answered.
//
//	nice taskset -c 1 go test -tags loadtest ./loadtest -run TestLoadDecisionLog -v -args -duration 5s
func TestLoadDecisionLog(t *testing.T) {
	dir := t.TempDir()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	stalled := make(chan struct{})
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stalled:
		case <-r.Context().Done():
		}
	}))
	defer collector.Close()
	defer close(stalled)

	pool := signedPool(t, callPath, callbackForm)
	var results []result
	for _, sink := range []struct{ name, value string }{
		{"off", ""},
		{"file", "file:" + filepath.Join(dir, "decisions.jsonl")},
		{"stalled collector", collector.URL + "/records"},
	} {
		// The stalled collector holds the last flush until the shutdown
		// timeout: keep it short.
		extra := []string{"ASSIGND_SHUTDOWN_TIMEOUT=3s"}
		if sink.value != "" {
			extra = append(extra, "ASSIGND_DECISION_LOG="+sink.value)
		}
		s := startAssigndWith(t, root, dir, "assignd-log-"+strings.ReplaceAll(sink.name, " ", "-"), testkit.PolicySource(*rulesFlag), extra)
		closedLoop(s, pool, *connsFlag, *warmupFlag)
		r := measured(s, "log "+sink.name, func() *stats { return closedLoop(s, pool, *connsFlag, *durationFlag) })
		t.Log(r.String())
		if r.stats.non200+r.stats.errs > 0 {
			t.Errorf("%s: %d non-200 answers, %d errors", r.run, r.stats.non200, r.stats.errs)
		}
		results = append(results, r)
		if sink.value == collector.URL+"/records" {
			stopStalled(t, s)
			continue
		}
		s.stop(t)
	}
	off := results[0].throughput()
	for _, r := range results[1:] {
		t.Logf("decision log %s: %.0f callbacks/s, %.2f of off (%.0f/s); p99 %s vs %s",
			strings.TrimPrefix(r.run, "log "), r.throughput(), r.throughput()/off, off,
			r.stats.percentile(.99).Round(time.Microsecond), results[0].stats.percentile(.99).Round(time.Microsecond))
	}
	t.Log("\n" + table(results))
}
