package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/shadow"
)

// shadowLive and shadowCandidate are the policies replay's tests use
// (cli/testdata/replay): the candidate agrees on Spanish under another rule
// name, rejects French and sends everything else elsewhere.
var shadowLive, shadowCandidate = readFixture("live.yaml"), readFixture("candidate.yaml")

func readFixture(name string) string {
	b, err := os.ReadFile(filepath.Join("..", "cli", "testdata", "replay", name))
	if err != nil {
		panic(err) // the fixtures are part of the repository
	}
	return string(b)
}

// shadowConfig is a development-mode configuration with a live and a
// shadow policy file in one directory; write replaces either.
func shadowConfig(t *testing.T, live, candidate string) (cfg *config.Config, write func(file, src string)) {
	t.Helper()
	cfg, writeLive := devPolicyConfig(t, live)
	cfg.ShadowPolicyFile = filepath.Join(filepath.Dir(cfg.PolicyFile), "candidate.yaml")
	write = func(file, src string) {
		if file == cfg.PolicyFile {
			writeLive(src)
			return
		}
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if candidate != "" {
		write(cfg.ShadowPolicyFile, candidate)
	}
	return cfg, write
}

// send answers a callback for a task in language and returns the reply.
func (r *running) send(t *testing.T, language string) string {
	t.Helper()
	form := devCallback()
	form.Set("TaskAttributes", `{"language":"`+language+`"}`)
	code, _, body := postForm(t, r.callback+handlers.AssignmentPath, form, "")
	r.sent++
	if code != 200 {
		t.Fatalf("callback for %q = %d %s", language, code, body)
	}
	return body
}

// agreement returns GET /-/shadow once the shadow has taken up every
// callback sent so far (r.sent): it decides them on its own goroutine,
// after the replies.
func agreement(t *testing.T, r *running) shadow.Agreement {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		a := agreementNow(t, r.admin)
		if a.SinceStart.Total+a.Unevaluated+a.Dropped >= r.sent || time.Now().After(deadline) {
			return a
		}
	}
}

func agreementNow(t *testing.T, admin string) shadow.Agreement {
	t.Helper()
	code, body := get(t, admin+"/-/shadow")
	var a shadow.Agreement
	if err := json.Unmarshal([]byte(body), &a); code != 200 || err != nil {
		t.Fatalf("GET /-/shadow = %d %s (%v)", code, body, err)
	}
	return a
}

// rowsOf renders a table's rows as "live>shadow:outcome=n", in its order.
func rowsOf(tb shadow.Table) string {
	var out []string
	for _, r := range tb.Rows {
		out = append(out, r.LiveRule+">"+r.ShadowRule+":"+string(r.Difference)+"="+strconv.FormatUint(r.Count, 10))
	}
	return strings.Join(out, " ")
}

// TestServeShadow runs a mixed stream of callbacks past a live and a
// shadow policy, reloads both files and runs more: the live replies never
// change, and the agreement table counts each stream where it belongs.
func TestServeShadow(t *testing.T) {
	cfg, write := shadowConfig(t, shadowLive, shadowCandidate)
	r := start(t, cfg)

	stream := func(want map[string]string, languages ...string) {
		t.Helper()
		for _, l := range languages {
			if got := r.send(t, l); got != want[l] {
				t.Errorf("live reply for %q = %s, want %s", l, got, want[l])
			}
		}
	}
	const es, toA, toC = `{"instruction":"dequeue","from":"+15005550006","to":"client:es"}`,
		`{"instruction":"dequeue","from":"+15005550006","to":"client:a"}`,
		`{"instruction":"dequeue","from":"+15005550006","to":"client:c"}`
	stream(map[string]string{"es": es, "fr": toA, "en": toA}, "es", "en", "fr", "en", "es", "en", "fr", "es", "en")

	a := agreement(t, r)
	if got, want := rowsOf(a.SinceStart), "default>fallback:params=4 spanish>es:same=3 default>fr:instruction=2"; got != want {
		t.Errorf("since start: %s, want %s", got, want)
	}
	if a.SinceStart.Total != 9 || a.SinceStart.Same != 3 || a.SinceStart.Params != 4 || a.SinceStart.Instruction != 2 {
		t.Errorf("since start totals: %+v", a.SinceStart)
	}
	if rowsOf(a.SinceLoad) != rowsOf(a.SinceStart) || a.Shadow == nil || a.Shadow.File != cfg.ShadowPolicyFile {
		t.Errorf("since load %s, shadow %+v: want the since-start rows and the candidate", rowsOf(a.SinceLoad), a.Shadow)
	}
	_, metrics := get(t, r.admin+"/metrics")
	for _, line := range []string{
		`assignd_shadow_decisions_total{live_rule="default",outcome="params",shadow_rule="fallback"} 4`,
		`assignd_shadow_decisions_total{live_rule="default",outcome="instruction",shadow_rule="fr"} 2`,
		`assignd_shadow_decisions_total{live_rule="spanish",outcome="same",shadow_rule="es"} 3`,
		`assignd_policy_last_reload_successful{policy="shadow"} 1`,
		`assignd_policy_last_reload_successful{policy="live"} 1`,
	} {
		if !strings.Contains(metrics, line) {
			t.Errorf("metrics lack %s:\n%s", line, grepLines(metrics, "assignd_shadow"))
		}
	}
	differs := r.logs.FilterMessage("shadow policy differs").All()
	if len(differs) != 6 {
		t.Errorf("%d disagreements logged, want 6", len(differs))
	} else if f := differs[0].ContextMap(); f["reservation_sid"] != "WR77777777777777777777777777777777" ||
		f["live_rule"] != "default" || f["shadow_rule"] != "fallback" || f["outcome"] != "params" ||
		f["live_instruction"] != "dequeue" || f["shadow_instruction"] != "dequeue" {
		t.Errorf("first disagreement logged as %v", f)
	}

	// Both files change; POST /-/reload loads both. The candidate now
	// agrees with the new live policy everywhere.
	live2 := strings.ReplaceAll(shadowLive, "client:a", "client:c")
	write(cfg.PolicyFile, live2)
	write(cfg.ShadowPolicyFile, live2)
	if code, body := postReload(t, r.admin); code != 200 || !strings.Contains(body, `"shadow":{"status":"ok"`) {
		t.Fatalf("POST /-/reload = %d %s", code, body)
	}
	stream(map[string]string{"es": es, "en": toC}, "en", "es", "en")
	a = agreement(t, r)
	if got, want := rowsOf(a.SinceLoad), "default>default:same=2 spanish>spanish:same=1"; got != want {
		t.Errorf("since load after the reload: %s, want %s", got, want)
	}
	if a.SinceStart.Total != 12 || a.SinceStart.Same != 6 || a.SinceLoad.Total != 3 || !a.SinceLoad.Since.After(a.SinceStart.Since) {
		t.Errorf("after the reload: since start %+v, since load %+v", a.SinceStart, a.SinceLoad)
	}
	if code, body := get(t, r.admin+"/-/policy?which=shadow"); code != 200 || !strings.Contains(body, `"file":"`+cfg.ShadowPolicyFile+`"`) || !strings.Contains(body, "client:c") {
		t.Errorf("GET /-/policy?which=shadow = %d %s", code, body)
	}
}

// TestServeShadowNeverHurtsLive starts with a missing shadow file, then
// breaks it: the live policy answers throughout, and reloads of it succeed.
func TestServeShadowNeverHurtsLive(t *testing.T) {
	cfg, write := shadowConfig(t, shadowLive, "")
	r := start(t, cfg)
	const toA = `{"instruction":"dequeue","from":"+15005550006","to":"client:a"}`
	if got := r.send(t, "en"); got != toA {
		t.Fatalf("reply without a shadow file: %s", got)
	}
	if code, body := get(t, r.admin+"/-/policy?which=shadow"); code != 503 {
		t.Errorf("GET /-/policy?which=shadow before any shadow loaded = %d %s", code, body)
	}
	if code, body := postReload(t, r.admin); code != 200 || !strings.Contains(body, `"shadow":{"status":"failed"`) {
		t.Errorf("POST /-/reload with a missing shadow = %d %s, want 200 with the shadow failed", code, body)
	}
	if a := agreement(t, r); a.Unevaluated != 1 || a.Shadow != nil || a.SinceStart.Total != 0 {
		t.Errorf("agreement without a shadow: %+v", a)
	}

	write(cfg.ShadowPolicyFile, shadowCandidate)
	if code, body := postReload(t, r.admin); code != 200 || !strings.Contains(body, `"shadow":{"status":"ok"`) {
		t.Fatalf("POST /-/reload = %d %s", code, body)
	}
	write(cfg.ShadowPolicyFile, servePolicyBad)
	if code, body := postReload(t, r.admin); code != 200 || !strings.Contains(body, `rule \"broken\" (#1): when:`) {
		t.Errorf("POST /-/reload with a broken shadow = %d %s, want 200 naming the problem", code, body)
	}
	if got := r.send(t, "en"); got != toA {
		t.Errorf("reply with a broken shadow: %s", got)
	}
	agreement(t, r)
	_, metrics := get(t, r.admin+"/metrics")
	// The file watch may have loaded the files too, so the shadow's
	// failures are at least the three seen here.
	if strings.Contains(metrics, `assignd_policy_reloads_total{policy="shadow",result="failure"} 0`) {
		t.Errorf("shadow failures not counted:\n%s", grepLines(metrics, "assignd_policy_"))
	}
	for _, line := range []string{
		`assignd_policy_last_reload_successful{policy="shadow"} 0`,
		`assignd_policy_last_reload_successful{policy="live"} 1`,
		`assignd_policy_reloads_total{policy="live",result="failure"} 0`,
		// The last good candidate still decides.
		`assignd_shadow_decisions_total{live_rule="default",outcome="params",shadow_rule="fallback"} 1`,
	} {
		if !strings.Contains(metrics, line) {
			t.Errorf("metrics lack %s:\n%s", line, grepLines(metrics, "assignd_"))
		}
	}
}
