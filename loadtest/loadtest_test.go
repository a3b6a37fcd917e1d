//go:build loadtest

// Package loadtest drives a built assignd binary over loopback HTTP, beside
// a bare net/http floor server, and reports throughput, latency, non-200
// answers, peak RSS, goroutines and the server's CPU time per callback.
//
// It is behind the loadtest build tag, so `go test ./...` and CI never run
// it. Run it from the repository root; docs/performance.md
// has the command and the results:
//
//	taskset -c 1 go test -tags loadtest ./loadtest -run TestLoad -v -timeout 10m -args -rate 5000 -duration 10s
//
// Each server runs pinned to CPU 0 with taskset; run the test itself on
// another CPU (taskset -c 1, as above) so that the load generator does not
// share the server's core.
package loadtest

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/assignd/assignd/internal/testkit"
)

var (
	rateFlag     = flag.Int("rate", 5000, "callbacks per second in the constant-rate run")
	durationFlag = flag.Duration("duration", 10*time.Second, "length of each measured run")
	warmupFlag   = flag.Duration("warmup", 2*time.Second, "unmeasured load before each server's runs")
	connsFlag    = flag.Int("conns", 32, "connections in the saturation run")
	workersFlag  = flag.Int("workers", 64, "most callbacks in flight (and connections) in the constant-rate run")
	rulesFlag    = flag.Int("rules", 10, "rules in the policy; only the last matches")
	cpuFlag      = flag.String("cpu", "0", "taskset CPU list for the servers; empty runs them unpinned")
	serversFlag  = flag.String("servers", "floor,assignd", "servers to test, in order: floor, assignd, express (with -peer)")
	peerFlag     = flag.String("peer", "", "directory of the Express peer (server.js, after npm install), for -servers express")
	runsFlag     = flag.String("runs", "constant,saturation,events", "runs to make against each server (events: reservation event callbacks, assignd only)")
	shadowFlag   = flag.Bool("shadow", false, "run assignd with a shadow policy of the same size (ASSIGND_SHADOW_POLICY_FILE), to measure what shadow evaluation costs")
	logLevelFlag = flag.String("loglevel", "info", "assignd's ASSIGND_LOG_LEVEL; warn drops the per-callback line, to see what it costs")
)

// floorEnv, when set in the environment, makes the test binary run the
// floor server on the address it holds instead of the tests.
const floorEnv = "ASSIGND_LOADTEST_FLOOR_ADDR"

// The account, tokens and URL the load test signs for. They are fake and
// never leave the machine.
const (
	authToken  = "0123456789abcdef0123456789abcdef"
	accountSid = "AC11111111111111111111111111111111"
	publicBase = "https://assignd.example.com/routing"
	callPath   = "/taskrouter/assignment"
	eventsPath = "/taskrouter/events"
	poolSize   = 1024
)

func TestMain(m *testing.M) {
	if addr := os.Getenv(floorEnv); addr != "" {
		if err := runFloor(addr); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runFloor serves the floor: a bare net/http server, with assignd's
// timeouts, that reads each callback's body and writes the fixed reply. It
// also answers GET /goroutines, for the report. It stops on SIGTERM.
func runFloor(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+callPath, func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, testkit.CatchAllReply)
	})
	mux.HandleFunc("GET /goroutines", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "go_goroutines %d\n", runtime.NumGoroutine())
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {})
	srv := &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe() }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	select {
	case <-sig:
		return srv.Close()
	case err := <-done:
		return err
	}
}

// TestLoad runs, against each server, an unmeasured warm-up, a
// constant-rate run and a saturation run, and logs a table of results.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	pool := signedPool(t, callPath, callbackForm)
	// Event callbacks for the same reservations: those the runs before
	// decided are remembered, the rest (and any evicted) recomputed.
	events := signedPool(t, eventsPath, eventForm)
	t.Logf("load generator: GOMAXPROCS %d, CPUs allowed %s; servers pinned to CPU %q", runtime.GOMAXPROCS(0), cpusAllowed("self"), *cpuFlag)
	if *cpuFlag != "" {
		if _, err := exec.LookPath("taskset"); err != nil {
			t.Logf("taskset not found: servers run unpinned")
			*cpuFlag = ""
		}
	}

	var results []result
	for _, name := range strings.Split(*serversFlag, ",") {
		var s *server
		switch name {
		case "assignd":
			shadow := ""
			if *shadowFlag {
				// A policy of the same shape in another file: every
				// callback is decided twice, and the shadow agrees, so no
				// disagreement lines are logged.
				shadow = testkit.PolicySource(*rulesFlag)
			}
			s = startAssignd(t, root, dir, shadow)
		case "floor":
			s = startFloor(t, dir)
		case "express":
			s = startExpress(t, dir)
		default:
			t.Fatalf("unknown server %q", name)
		}
		t.Logf("%s: pid %d, CPUs allowed %s", name, s.cmd.Process.Pid, cpusAllowed(strconv.Itoa(s.cmd.Process.Pid)))
		closedLoop(s, pool, *connsFlag, *warmupFlag)
		for _, run := range strings.Split(*runsFlag, ",") {
			if run == "events" && name != "assignd" {
				continue // the floor serves assignment callbacks only
			}
			r := result{server: name, run: run}
			mon := s.monitor()
			start := time.Now()
			switch run {
			case "constant":
				r.stats = openLoop(s, pool, *rateFlag, *workersFlag, *durationFlag)
				r.run = fmt.Sprintf("constant %d/s", *rateFlag)
			case "saturation":
				r.stats = closedLoop(s, pool, *connsFlag, *durationFlag)
				r.run = fmt.Sprintf("saturation %d conns", *connsFlag)
			case "events":
				r.stats = closedLoop(s, events, *connsFlag, *durationFlag)
				r.run = fmt.Sprintf("events, %d conns", *connsFlag)
			default:
				t.Fatalf("unknown run %q", run)
			}
			r.elapsed = time.Since(start)
			r.cpu, r.goroutines = mon.stop()
			r.rssHWM = s.vmHWM()
			t.Log(r.String())
			results = append(results, r)
		}
		s.stop(t)
	}
	t.Log("\n" + table(results))
}

// server is a running server process under test.
type server struct {
	name     string
	cmd      *exec.Cmd
	addr     string // callback listener, host:port
	statsURL string // where go_goroutines is scraped
	admin    string // assignd's admin base URL; "" for the others
	exited   chan error
	logFile  *os.File
}

// startAssignd builds assignd and starts it in signed mode with a
// rules-rule policy, logging JSON at info level to a file, with the
// shadow policy source shadow unless it is empty.
func startAssignd(t *testing.T, root, dir string, shadow string) *server {
	t.Helper()
	var extra []string
	if shadow != "" {
		shadowFile := filepath.Join(dir, "shadow.yaml")
		if err := os.WriteFile(shadowFile, []byte(shadow), 0o644); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, "ASSIGND_SHADOW_POLICY_FILE="+shadowFile)
	}
	return startAssigndWith(t, root, dir, "assignd", testkit.PolicySource(*rulesFlag), extra)
}

// startAssigndWith starts assignd as startAssignd does, named name (its
// log file's name), with the policy src and the extra environment.
func startAssigndWith(t *testing.T, root, dir, name, src string, extra []string) *server {
	t.Helper()
	bin := filepath.Join(dir, "assignd")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	policyFile := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(policyFile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, admin := testkit.FreeAddr(t), testkit.FreeAddr(t)
	env := append(os.Environ(),
		"TWILIO_ACCOUNT_SID="+accountSid,
		"TWILIO_AUTH_TOKEN="+authToken,
		"ASSIGND_PUBLIC_BASE_URL="+publicBase,
		"ASSIGND_POLICY_FILE="+policyFile,
		"ASSIGND_LISTEN="+addr,
		"ASSIGND_ADMIN_LISTEN="+admin,
		"ASSIGND_LOG_LEVEL="+*logLevelFlag,
		"ASSIGND_LOG_FORMAT=json",
		// No update-mode rule runs, but nothing may leave the machine.
		"ASSIGND_TASKROUTER_URL=http://127.0.0.1:9",
	)
	env = append(env, extra...)
	s := start(t, name, dir, env, addr, "http://"+admin+"/metrics", "http://"+admin+"/readyz", bin, "serve")
	s.admin = "http://" + admin
	return s
}

// startFloor starts this test binary again as the floor server.
func startFloor(t *testing.T, dir string) *server {
	t.Helper()
	addr := testkit.FreeAddr(t)
	env := append(os.Environ(), floorEnv+"="+addr)
	return start(t, "floor", dir, env, addr, "http://"+addr+"/goroutines", "http://"+addr+"/readyz", os.Args[0], "-test.run=^$")
}

// startExpress starts the Express peer from -peer: the same job done the
// way Twilio's quickstarts teach it, with twilio-node's validateRequest.
// It has no readiness or metrics endpoint, so it is ready when it accepts
// a connection, and its goroutines are reported as -1.
func startExpress(t *testing.T, dir string) *server {
	t.Helper()
	if *peerFlag == "" {
		t.Fatal("-servers express needs -peer, the Express peer's directory")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("express: %v", err)
	}
	addr := testkit.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	env := append(os.Environ(), "PORT="+port, "TWILIO_AUTH_TOKEN="+authToken, "PUBLIC_URL="+publicBase+callPath)
	return start(t, "express", dir, env, addr, "http://"+addr+"/no-metrics", "", node, filepath.Join(*peerFlag, "server.js"))
}

// start runs argv, pinned with taskset when asked, and waits for ready:
// a 200 from readyURL, or with no readyURL an accepted connection.
func start(t *testing.T, name, dir string, env []string, addr, statsURL, readyURL string, argv ...string) *server {
	t.Helper()
	if *cpuFlag != "" {
		argv = append([]string{"taskset", "-c", *cpuFlag}, argv...)
	}
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	s := &server{name: name, cmd: cmd, addr: addr, statsURL: statsURL, exited: make(chan error, 1), logFile: logFile}
	go func() { s.exited <- cmd.Wait() }()
	t.Cleanup(func() { s.kill() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		if readyURL == "" {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				return s
			}
		} else if resp, err := http.Get(readyURL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case err := <-s.exited:
			t.Fatalf("%s exited before it was ready: %v\n%s", name, err, readFile(logFile.Name()))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 15s\n%s", name, readFile(logFile.Name()))
		}
	}
}

// stop ends the server with SIGTERM and waits for it.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("stopping %s: %v", s.name, err)
	}
	select {
	case err := <-s.exited:
		s.exited <- err
		// Node ends on SIGTERM by the signal; only the Go servers drain.
		if err != nil && s.name != "express" {
			t.Errorf("%s exited: %v\n%s", s.name, err, tail(readFile(s.logFile.Name()), 2000))
		}
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30s", s.name)
		s.kill()
	}
}

// kill ends the process if it is still running; it is the test's cleanup.
func (s *server) kill() {
	select {
	case err := <-s.exited:
		s.exited <- err
	default:
		s.cmd.Process.Kill()
	}
	s.logFile.Close()
}

// vmHWM is the process's peak resident set size so far, in bytes.
func (s *server) vmHWM() int64 {
	return procStatusKB(s.cmd.Process.Pid, "VmHWM:") * 1024
}

// cpuTime is the process's user plus system CPU time so far.
func (s *server) cpuTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
}

// goroutines scrapes go_goroutines from the server's metrics.
func (s *server) goroutines() int {
	resp, err := http.Get(s.statsURL)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return -1
}

// monitor samples the server's goroutines every 250ms during a run.
type monitor struct {
	s        *server
	cpu0     time.Duration
	done     chan struct{}
	finished chan struct{}
	peak     atomic.Int64
}

func (s *server) monitor() *monitor {
	m := &monitor{s: s, cpu0: s.cpuTime(), done: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(m.finished)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-m.done:
				return
			case <-tick.C:
				if n := int64(s.goroutines()); n > m.peak.Load() {
					m.peak.Store(n)
				}
			}
		}
	}()
	return m
}

// stop returns the server's CPU time during the run and the most
// goroutines seen.
func (m *monitor) stop() (time.Duration, int) {
	cpu := m.s.cpuTime() - m.cpu0
	close(m.done)
	<-m.finished
	return cpu, int(m.peak.Load())
}

// stats are one run's measurements.
type stats struct {
	sent, ok, non200, errs int
	latencies              []time.Duration
	duration               time.Duration // the run's length, for throughput
}

func (st *stats) add(o *stats) {
	st.sent += o.sent
	st.ok += o.ok
	st.non200 += o.non200
	st.errs += o.errs
	st.latencies = append(st.latencies, o.latencies...)
}

func (st *stats) percentile(p float64) time.Duration {
	if len(st.latencies) == 0 {
		return 0
	}
	i := int(p*float64(len(st.latencies))+0.5) - 1
	return st.latencies[min(max(i, 0), len(st.latencies)-1)]
}

// result is one run against one server.
type result struct {
	server, run string
	stats       *stats
	elapsed     time.Duration
	cpu         time.Duration
	goroutines  int
	rssHWM      int64
}

func (r result) throughput() float64 { return float64(r.stats.ok) / r.stats.duration.Seconds() }

func (r result) String() string {
	st := r.stats
	cpuPer := time.Duration(0)
	if st.sent > 0 {
		cpuPer = r.cpu / time.Duration(st.sent)
	}
	return fmt.Sprintf("%-8s %-22s %9.0f/s  p50 %8s  p99 %8s  p99.9 %8s  max %8s  non-200 %d  errors %d  of %d  server CPU %.0f%% (%s/callback)  peak RSS %.1f MiB  goroutines %d",
		r.server, r.run, r.throughput(),
		st.percentile(.50).Round(time.Microsecond), st.percentile(.99).Round(time.Microsecond), st.percentile(.999).Round(time.Microsecond), st.percentile(1).Round(time.Microsecond),
		st.non200, st.errs, st.sent,
		100*r.cpu.Seconds()/r.elapsed.Seconds(), cpuPer.Round(100*time.Nanosecond),
		float64(r.rssHWM)/(1<<20), r.goroutines)
}

// table formats results as docs/performance.md's Markdown table.
func table(rs []result) string {
	var b strings.Builder
	b.WriteString("| server | run | throughput | p50 | p99 | p99.9 | non-200 | server CPU | CPU/callback | peak RSS | goroutines |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		st := r.stats
		cpuPer := time.Duration(0)
		if st.sent > 0 {
			cpuPer = r.cpu / time.Duration(st.sent)
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f/s | %s | %s | %s | %d | %.0f%% | %s | %.1f MiB | %d |\n",
			r.server, r.run, r.throughput(),
			fmtDur(st.percentile(.50)), fmtDur(st.percentile(.99)), fmtDur(st.percentile(.999)),
			st.non200+st.errs, 100*r.cpu.Seconds()/r.elapsed.Seconds(), fmtDur(cpuPer),
			float64(r.rssHWM)/(1<<20), r.goroutines)
	}
	return b.String()
}

func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// openLoop sends rate callbacks a second for d, each at its scheduled
// time, from up to workers connections. A callback's latency counts from
// its scheduled time, not from when a connection was free to send it, so
// that a stalled server is not hidden by the generator waiting for it
// (coordinated omission).
func openLoop(s *server, pool [][]byte, rate, workers int, d time.Duration) *stats {
	n := int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	due := make(chan time.Time, n)
	per := make([]*stats, workers)
	var wg sync.WaitGroup
	for w := range workers {
		per[w] = &stats{latencies: make([]time.Duration, 0, n/workers+16)}
		wg.Go(func() {
			c := &conn{addr: s.addr}
			defer c.close()
			st := per[w]
			i := w
			for at := range due {
				st.sent++
				code, err := c.do(pool[i%len(pool)])
				i += workers
				st.latencies = append(st.latencies, time.Since(at))
				switch {
				case err != nil:
					st.errs++
				case code != http.StatusOK && code != http.StatusNoContent: // 204 answers events
					st.non200++
				default:
					st.ok++
				}
			}
		})
	}
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait)
		}
		due <- at
	}
	close(due)
	wg.Wait()
	all := &stats{duration: time.Since(start)}
	for _, st := range per {
		all.add(st)
	}
	slices.Sort(all.latencies)
	return all
}

// closedLoop keeps conns connections busy for d, each sending its next
// callback as soon as the last is answered.
func closedLoop(s *server, pool [][]byte, conns int, d time.Duration) *stats {
	per := make([]*stats, conns)
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conns {
		per[w] = &stats{latencies: make([]time.Duration, 0, 4096)}
		wg.Go(func() {
			c := &conn{addr: s.addr}
			defer c.close()
			st := per[w]
			for i := w; time.Now().Before(deadline); i += conns {
				t0 := time.Now()
				st.sent++
				code, err := c.do(pool[i%len(pool)])
				st.latencies = append(st.latencies, time.Since(t0))
				switch {
				case err != nil:
					st.errs++
					time.Sleep(time.Millisecond) // do not spin on a refused connection
				case code != http.StatusOK && code != http.StatusNoContent: // 204 answers events
					st.non200++
				default:
					st.ok++
				}
			}
		})
	}
	wg.Wait()
	all := &stats{duration: time.Since(start)}
	for _, st := range per {
		all.add(st)
	}
	slices.Sort(all.latencies)
	return all
}

// conn is one keep-alive HTTP/1.1 connection that sends pre-built
// requests and reads their responses, much cheaper than net/http's client,
// so that the generator's one CPU can outrun a server's.
type conn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
}

// do sends req and returns the response's status code. It reconnects when
// the connection is gone.
func (c *conn) do(req []byte) (int, error) {
	if c.c == nil {
		nc, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, err
		}
		c.c, c.r = nc, bufio.NewReaderSize(nc, 4096)
	}
	c.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.c.Write(req); err != nil {
		c.close()
		return 0, err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.close()
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		c.close()
	}
	return resp.StatusCode, err
}

func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
		c.c, c.r = nil, nil
	}
}

// signedPool returns poolSize distinct requests to path, the form of each
// from formFor, signed for publicBase+path as Twilio signs them, as raw
// HTTP/1.1 requests.
func signedPool(t *testing.T, path string, formFor func(i int) url.Values) [][]byte {
	t.Helper()
	pool := make([][]byte, poolSize)
	for i := range pool {
		form := formFor(i)
		body := form.Encode()
		var b bytes.Buffer
		fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: assignd.internal:8080\r\nUser-Agent: TwilioProxy/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: %s\r\nContent-Length: %d\r\n\r\n%s",
			path, testkit.Sign(authToken, publicBase+path, form), len(body), body)
		pool[i] = b.Bytes()
	}
	return pool
}

// callbackForm is the i-th assignment callback of the pool.
func callbackForm(i int) url.Values {
	return url.Values{
		"AccountSid":       {accountSid},
		"WorkspaceSid":     {"WS22222222222222222222222222222222"},
		"WorkflowSid":      {"WW33333333333333333333333333333333"},
		"TaskQueueSid":     {"WQ44444444444444444444444444444444"},
		"TaskSid":          {fmt.Sprintf("WT%032x", i)},
		"WorkerSid":        {fmt.Sprintf("WK%032x", i%50)},
		"ReservationSid":   {fmt.Sprintf("WR%032x", i)},
		"TaskAge":          {strconv.Itoa(i % 300)},
		"TaskPriority":     {"10"},
		"Timestamp":        {strconv.Itoa(1764371000 + i)},
		"TaskAttributes":   {fmt.Sprintf(`{"language":"es","tier":"gold","call_sid":"CA%032x","customer":{"name":"Ana","accounts":[{"tier":"gold"}]}}`, i)},
		"WorkerAttributes": {`{"contact_uri":"client:alice","skills":["billing","vip"],"languages":["en","es"],"level":3}`},
	}
}

// eventForm is the i-th callback's reservation as an event callback, with
// the fields the TaskRouter Events reference lists; outcomes rotate.
func eventForm(i int) url.Values {
	form := callbackForm(i)
	types := []string{"reservation.accepted", "reservation.rejected", "reservation.timeout", "reservation.completed"}
	form.Set("EventType", types[i%len(types)])
	form.Set("WorkspaceName", "Support")
	form.Set("EventDescription", "Reservation event")
	form.Set("ResourceType", "Reservation")
	form.Set("ResourceSid", form.Get("ReservationSid"))
	form.Set("WorkerName", "alice")
	return form
}

// procStatusKB reads a kB field of /proc/PID/status.
func procStatusKB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return -1
}

// cpusAllowed is Cpus_allowed_list of /proc/PID/status (pid may be "self").
func cpusAllowed(pid string) string {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return "?"
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func readFile(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
