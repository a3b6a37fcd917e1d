package handlers

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/assignd/assignd/policy"
)

// TestLargeIntegerRenderedExactly holds large integers exact through the real
// handler: an attribute beyond float64's exact integers reaches a template
// as sent, on the projected hot path and on the path that decodes whole
// documents (a policy reading the whole task).
func TestLargeIntegerRenderedExactly(t *testing.T) {
	const big = "12345678901234567890"
	for _, tc := range []struct{ name, when string }{
		{"projected", `task.tier == "gold"`},
		{"compared too", `task.account > 1 AND task.tier == "gold"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := policy.Parse("big.yaml", []byte(`version: 1
rules:
  - name: big
    when: `+tc.when+`
    instruction: redirect
    params: {call_sid: "CA88888888888888888888888888888888", url: "https://ops.example.com/twiml?account={{task.account}}", accept: true}
  - name: default
    instruction: accept
`))
			if err != nil {
				t.Fatal(err)
			}
			env := newTestServer(t, nil)
			env.store.Set(p)
			ts := httptest.NewServer(env.srv.Handler())
			defer ts.Close()
			resp, err := ts.Client().Do(signedRequestTo(t, testToken, ts.URL+AssignmentPath, callbackForm(`{"tier":"gold","account":`+big+`}`)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := readBody(t, resp.Body)
			if !strings.Contains(body, "account="+big+`"`) {
				t.Errorf("reply %s does not carry account=%s exactly", body, big)
			}
		})
	}
}
