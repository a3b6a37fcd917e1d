package handlers

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/internal/httpserver"
)

// The size of TestAttackHostileForms and its memory bound: the
// Deployment's memory limit is 256 MiB. Its latencies are only logged:
// speed is measured as a ratio to the floor in the benchmarks and the
// load test, never asserted against a wall clock.
const (
	attackers       = 24
	attackRounds    = 50 // bodies each attacker sends, one after another
	attackFields    = 10000
	attackRSSGrowth = 32 << 20
)

// attackBody is an unsigned form of attackFields one-letter fields, padded
// to just under callback.MaxBodyBytes: the body that, before the form limits, made
// one signature check allocate 650 MB.
func attackBody() []byte {
	var b bytes.Buffer
	for i := range attackFields {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteByte(byte('a' + i%26))
		b.WriteString("=xxx")
	}
	b.WriteString(strings.Repeat("x", callback.MaxBodyBytes-1-b.Len()))
	return b.Bytes()
}

// rssBytes is the process's resident set size, from /proc/self/status.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status to read the RSS from: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("reading VmRSS %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/self/status")
	return 0
}

// TestAttackHostileForms runs a hostile-form attack against a real
// listener: 24 clients at once send unsigned 128 KiB bodies of 10,000
// one-letter fields, while genuine signed callbacks keep coming. Every
// attack body must be refused with 413 before any HMAC, the process may
// grow by less than 32 MiB (its RSS; processMemory says what is measured
// under the race detector), and every genuine callback must be answered
// 200. The latencies of both are logged, not asserted.
func TestAttackHostileForms(t *testing.T) {
	if testing.Short() {
		t.Skip("the attack takes a few seconds")
	}
	// The production timeouts: the attack is about the form limits, and a
	// loaded machine must not turn a slow body into a 408.
	h := startHostileWith(t, httpserver.Default)
	body := attackBody()
	if len(body) >= callback.MaxBodyBytes || bytes.Count(body, []byte{'&'})+1 != attackFields {
		t.Fatalf("attack body of %d bytes and %d fields", len(body), bytes.Count(body, []byte{'&'})+1)
	}
	attackClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: attackers, DisableCompression: true}, Timeout: 10 * time.Second}
	defer attackClient.CloseIdleConnections()
	post := func() (answer, error) {
		req, err := http.NewRequest(http.MethodPost, h.target, bytes.NewReader(body))
		if err != nil {
			return answer{}, err
		}
		req.Header.Set("Content-Type", formContentType)
		start := time.Now()
		resp, err := attackClient.Do(req)
		if err != nil {
			return answer{}, err
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		if _, err := b.ReadFrom(resp.Body); err != nil {
			return answer{}, err
		}
		return answer{resp.StatusCode, resp.Header.Get("Content-Type"), b.String(), time.Since(start)}, nil
	}
	// Warm both paths up, so that the baseline holds the pools and
	// connections a running server has anyway.
	for range 3 {
		h.do(t, h.signedForm(t, callbackForm(`{}`))).expect(t, http.StatusOK, `{"instruction":"accept"}`)
		if a, err := post(); err != nil || a.code != http.StatusRequestEntityTooLarge {
			t.Fatalf("warm-up attack: %v %+v", err, a)
		}
	}
	baseline := processMemory(t)

	stop := make(chan struct{})
	var peak int64
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			peak = max(peak, processMemory(t))
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	var genuine []time.Duration
	var genuineWrong []string
	var genuineDone sync.WaitGroup
	genuineDone.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			a, err := h.send(h.signedForm(t, callbackForm(`{}`)))
			if err != nil || a.code != http.StatusOK {
				genuineWrong = append(genuineWrong, strconv.Itoa(a.code)+" "+a.body+" "+errString(err))
				continue
			}
			genuine = append(genuine, a.took)
		}
	})

	var mu sync.Mutex
	var wrong []string
	var refusals []time.Duration
	var wg sync.WaitGroup
	for range attackers {
		wg.Go(func() {
			for range attackRounds {
				a, err := post()
				mu.Lock()
				switch {
				case err != nil:
					wrong = append(wrong, err.Error())
				case a.code != http.StatusRequestEntityTooLarge || a.body != `{"error":"body is not a valid form: more than 100 fields"}`:
					wrong = append(wrong, strconv.Itoa(a.code)+" "+a.body)
				default:
					refusals = append(refusals, a.took)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	genuineDone.Wait()
	sampler.Wait()

	if len(wrong) > 0 {
		t.Errorf("%d attack bodies not refused with 413: %q", len(wrong), wrong[:min(len(wrong), 5)])
	}
	if len(refusals) > 0 {
		slices.Sort(refusals)
		t.Logf("%d attack bodies refused: median %s, worst %s", len(refusals), refusals[len(refusals)/2], refusals[len(refusals)-1])
	}
	growth := peak - baseline
	t.Logf("memory %d MiB before, peak %d MiB during the attack (+%d KiB)", baseline>>20, peak>>20, growth>>10)
	if growth >= attackRSSGrowth {
		t.Errorf("RSS grew by %d MiB during the attack; want under %d MiB", growth>>20, attackRSSGrowth>>20)
	}
	if len(genuineWrong) > 0 {
		t.Errorf("%d genuine callbacks not answered 200: %q", len(genuineWrong), genuineWrong[:min(len(genuineWrong), 5)])
	}
	if len(genuine) < 10 {
		t.Fatalf("only %d genuine callbacks were answered during the attack", len(genuine))
	}
	slices.Sort(genuine)
	p99 := genuine[(len(genuine)*99+99)/100-1]
	t.Logf("%d genuine callbacks during the attack: median %s, p99 %s, worst %s", len(genuine), genuine[len(genuine)/2], p99, genuine[len(genuine)-1])
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
