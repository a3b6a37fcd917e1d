package policy

import (
	"strings"
	"testing"
)

// redactHead and redactTail frame each case's conference params, so that
// every case is a policy that loads.
const (
	redactHead = "# head comment\nversion: 1\nrules:\n  - name: sip # the SIP agents\n    when: worker.sip == true\n    instruction: conference\n"
	redactTail = "  - name: default\n    instruction: accept\n"
)

func TestRedactedSource(t *testing.T) {
	tests := []struct {
		name, params string
		want         string // the whole redacted params; empty: re-rendered, checked loosely
	}{
		{"plain", "    params:\n      from: \"+15005550006\"\n      sip_auth_password: hunter2-secret\n",
			"    params:\n      from: \"+15005550006\"\n      sip_auth_password: \"[redacted]\"\n"},
		{"plain with a comment", "    params:\n      from: \"+15005550006\"\n      sip_auth_password: hunter2-secret   # rotate monthly\n",
			"    params:\n      from: \"+15005550006\"\n      sip_auth_password: \"[redacted]\"   # rotate monthly\n"},
		{"double-quoted with escapes", "    params:\n      from: \"+15005550006\"\n      sip_auth_password: \"hunter2-\\\"secret\\\"\" # q\n",
			"    params:\n      from: \"+15005550006\"\n      sip_auth_password: \"[redacted]\" # q\n"},
		{"single-quoted with a quote", "    params:\n      from: \"+15005550006\"\n      sip_auth_password: 'hunter2-''secret'''\n",
			"    params:\n      from: \"+15005550006\"\n      sip_auth_password: \"[redacted]\"\n"},
		{"digits in quotes", "    params:\n      from: \"+15005550006\"\n      sip_auth_password: \"0123456789\"\n",
			"    params:\n      from: \"+15005550006\"\n      sip_auth_password: \"[redacted]\"\n"},
		{"flow mapping", "    params: {from: \"+15005550006\", sip_auth_password: hunter2-secret, sip_auth_username: agent}\n",
			"    params: {from: \"+15005550006\", sip_auth_password: \"[redacted]\", sip_auth_username: agent}\n"},
		{"anchored in another parameter", "    params:\n      from: \"+15005550006\"\n      sip_auth_username: &pw hunter2-secret\n      sip_auth_password: *pw\n",
			"    params:\n      from: \"+15005550006\"\n      sip_auth_username: &pw \"[redacted]\"\n      sip_auth_password: *pw\n"},
		{"block scalar", "    params:\n      from: \"+15005550006\"\n      sip_auth_password: >-\n        hunter2-secret\n", ""},
		{"multi-line plain", "    params:\n      from: \"+15005550006\"\n      sip_auth_password: hunter2\n        -secret\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := redactHead + tt.params + redactTail
			p, err := Parse("redact.yaml", []byte(src))
			if err != nil {
				t.Fatalf("the case does not load: %v", err)
			}
			got := string(p.RedactedSource())
			if strings.Contains(got, "hunter2") || strings.Contains(got, "secret'") || strings.Contains(got, "0123456789") {
				t.Fatalf("the secret is shown:\n%s", got)
			}
			if tt.want != "" {
				if want := redactHead + tt.want + redactTail; got != want {
					t.Errorf("got:\n%s\nwant (every other byte kept):\n%s", got, want)
				}
			} else if !strings.Contains(got, "# head comment") || !strings.Contains(got, "[redacted]") {
				t.Errorf("re-rendered source lost its comment or its mask:\n%s", got)
			}
			if _, err := Parse("redacted.yaml", []byte(got)); err != nil {
				t.Errorf("the redacted source does not load: %v\n%s", err, got)
			}
			if string(p.Source()) != src {
				t.Error("RedactedSource changed the policy's own source")
			}
		})
	}
}

// TestRedactedSourceDefaults masks a password given in defaults, and keeps a
// source without secrets byte for byte.
func TestRedactedSourceDefaults(t *testing.T) {
	src := "version: 1\ndefaults:\n  conference:\n    sip_auth_password: hunter2-secret\n" + strings.TrimPrefix(redactHead, "# head comment\nversion: 1\n") +
		"    params:\n      from: \"+15005550006\"\n" + redactTail
	p, err := Parse("d.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(src, "hunter2-secret", `"[redacted]"`, 1)
	if got := string(p.RedactedSource()); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	plain, err := Parse("e.yaml", Example())
	if err != nil {
		t.Fatal(err)
	}
	if string(plain.RedactedSource()) != string(Example()) {
		t.Error("a source without secrets changed")
	}
}

// TestSecretNotInProblems loads policies whose password is refused: the
// problem must name the parameter but never quote the value.
func TestSecretNotInProblems(t *testing.T) {
	tests := []struct{ name, value string }{
		{"number", "987654321"},
		{"float", "98765.4321"},
		{"boolean", "true"},
		{"empty", `""`},
		{"list", "[987654321]"},
		{"broken template", `"987654321{{worker."`},
		{"wrong tag", "!!int 987654321x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := redactHead + "    params:\n      from: \"+15005550006\"\n      sip_auth_password: " + tt.value + "\n" + redactTail
			_, err := Parse("bad.yaml", []byte(src))
			if err == nil {
				t.Fatal("the policy loads")
			}
			msg := err.Error()
			for _, p := range err.(*LoadError).Problems {
				msg += p.String() + p.Detail
			}
			if strings.Contains(msg, "98765") {
				t.Errorf("the problem quotes the secret: %s", msg)
			}
			if !strings.Contains(msg, "sip_auth_password") {
				t.Errorf("the problem does not name the parameter: %s", msg)
			}
		})
	}
}

// TestSecretNotInRenderedProblems checks the same while deciding: a
// secret rendered from attributes that fails its check skips the rule with
// a detail that names the parameter but not the value, which explain,
// POST /-/explain, the debug log and policy tests all show.
func TestSecretNotInRenderedProblems(t *testing.T) {
	src := redactHead + "    params:\n      from: \"+15005550006\"\n      sip_auth_password: \"{{worker.sip_password}}\"\n" + redactTail
	p, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d := p.Decide(&Input{Worker: map[string]any{"sip": true, "sip_password": 987654321.0}})
	if d.Rule != "default" || len(d.Skipped) != 1 {
		t.Fatalf("decided %q, skipped %+v; want the sip rule skipped", d.Rule, d.Skipped)
	}
	sk := d.Skipped[0]
	if msg := sk.Reason + " " + sk.Detail; strings.Contains(msg, "98765") || !strings.Contains(msg, "sip_auth_password") {
		t.Errorf("skip detail %q: want the parameter named and the value not shown", msg)
	}
	if _, err := CheckParam(Conference, "sip_auth_password", 123456); err == nil || strings.Contains(err.Error(), "123456") {
		t.Errorf("CheckParam error %v: want a refusal that does not quote the value", err)
	}
}
