package handlers

import (
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/assignd/assignd/policy"
)

// TestDebugLogRedactsSecretSources renders a SIP password from a task
// attribute, written plainly and with a JSON escape, and searches every
// log line at debug for it: the attribute, the raw attribute document in
// the fields and the parameters all show it redacted, while the other
// attributes stay as sent.
func TestDebugLogRedactsSecretSources(t *testing.T) {
	const password = "hunter2-from-attr"
	p, err := policy.Parse("sip.yaml", []byte(`version: 1
rules:
  - name: sip
    instruction: conference
    params:
      from: "+15005550006"
      sip_auth_username: agent
      sip_auth_password: "{{task.sip.pw}}"
    when: task.language == "en"
  - name: default
    instruction: accept
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, attrs string }{
		{"plain", `{"language":"en","sip":{"pw":"` + password + `"},"notes":["call back","pw is ` + password + `"]}`},
		{"escaped", `{"language":"en","sip":{"pw":"hunter2-\u0066rom-attr"},"notes":["call back"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			up := &fakeUpdater{}
			env := newTestServer(t, func(o *Options) {
				o.Logger = zap.New(core)
				o.Enqueue = up.Enqueue
			})
			env.store.Set(p)
			const target = "https://assign.example.com" + AssignmentPath
			if rec := serve(env.srv.Handler(), signedRequest(testToken, target, callbackForm(tc.attrs))); rec.Code != 200 {
				t.Fatalf("status %d %s", rec.Code, rec.Body)
			}
			if len(logs.FilterMessage("callback detail").All()) != 1 {
				t.Fatalf("no callback detail line")
			}
			for _, e := range logs.All() {
				line := fmt.Sprint(e.ContextMap())
				if strings.Contains(line, password) || strings.Contains(line, `hunter2-\u0066rom`) {
					t.Errorf("the SIP password is logged in %q: %s", e.Message, line)
				}
			}
			f := logs.FilterMessage("callback detail").All()[0].ContextMap()
			task, _ := f["task_attributes"].(map[string]any)
			if task["language"] != "en" || fmt.Sprint(task["sip"]) != "map[pw:"+policy.RedactedValue+"]" {
				t.Errorf("task attributes logged as %v, want the language as sent and the password redacted", task)
			}
			if raw := fmt.Sprint(f["fields"]); !strings.Contains(raw, `"language":"en"`) {
				t.Errorf("fields lost the other attributes: %s", raw)
			}
			if got := up.got(); len(got) != 1 {
				t.Fatalf("%d updates, want 1", len(got))
			} else if v, _ := got[0].Instruction.Get("sip_auth_password"); v != password {
				t.Errorf("update carries sip_auth_password %v, want the real one", v)
			}
		})
	}
}
