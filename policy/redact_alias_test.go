package policy

import (
	"strings"
	"testing"
)

// TestRedactedSourceAliases masks a secret however YAML lets a policy
// name the parameter or give the value: a key written as an alias (whose
// anchor may itself be named sip_auth_password), a merge key bringing the
// parameter in from another rule's params, a list of merges, flow and
// block styles. Each case must load, show no secret, and load again once
// redacted.
func TestRedactedSourceAliases(t *testing.T) {
	const head = "version: 1\nrules:\n"
	const tail = "  - name: default\n    instruction: accept\n"
	rule := func(name, params string) string {
		return "  - name: " + name + "\n    when: worker.sip == true\n    instruction: conference\n    params:" + params
	}
	tests := []struct{ name, rules string }{
		{"alias key whose anchor is named sip_auth_password",
			rule("a", "\n      from: \"+15005550006\"\n      sip_auth_username: &sip_auth_password sip_auth_password\n      *sip_auth_password : hunter2-secret\n")},
		{"alias key anchored on another rule's key",
			rule("a", "\n      from: \"+15005550006\"\n      &pw sip_auth_password: hunter2-one\n") +
				rule("b", "\n      from: \"+15005550006\"\n      *pw : hunter2-two\n")},
		{"alias key in a flow mapping",
			rule("a", " {from: \"+15005550006\", &pw sip_auth_password: hunter2-one}\n") +
				rule("b", " {from: \"+15005550006\", *pw : hunter2-two}\n")},
		{"merge key, block style",
			rule("a", " &common\n      from: \"+15005550006\"\n      sip_auth_password: hunter2-secret\n") +
				rule("b", "\n      <<: *common\n      to: \"client:b\"\n")},
		{"merge key, flow style, with an alias key inside",
			rule("a", " &common {from: \"+15005550006\", &k sip_auth_password: 'hunter2-secret'}\n") +
				rule("b", " {<<: *common, *k : \"hunter2-other\"}\n")},
		{"list of merges",
			rule("a", " &one {from: \"+15005550006\"}\n") +
				rule("b", " &two {to: \"client:b\", from: \"+15005550007\", sip_auth_password: hunter2-secret}\n") +
				rule("c", "\n      <<: [*one, *two]\n")},
		{"merge of a block scalar through an alias key",
			rule("a", " &common\n      from: \"+15005550006\"\n      &k sip_auth_password: >-\n        hunter2-secret\n") +
				rule("b", "\n      <<: *common\n      *k : |\n        hunter2-other\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := head + tt.rules + tail
			p, err := Parse("alias.yaml", []byte(src))
			if err != nil {
				t.Fatalf("the case does not load: %v\n%s", err, src)
			}
			got := string(p.RedactedSource())
			if strings.Contains(got, "hunter2") {
				t.Fatalf("the secret is shown:\n%s", got)
			}
			if !strings.Contains(got, RedactedValue) {
				t.Fatalf("nothing is masked (withheld or lost):\n%s", got)
			}
			q, err := Parse("redacted.yaml", []byte(got))
			if err != nil {
				t.Fatalf("the redacted source does not load: %v\n%s", err, got)
			}
			// Every rule that had a password still has one, masked.
			for i, r := range q.rules {
				if pw := r.param("sip_auth_password"); pw != nil && pw.value != RedactedValue {
					t.Errorf("rule %d's password reads %v", i+1, pw.value)
				}
				if (p.rules[i].param("sip_auth_password") == nil) != (r.param("sip_auth_password") == nil) {
					t.Errorf("rule %d gained or lost its password", i+1)
				}
			}
		})
	}
}

// TestRedactedSourceComputedAtLoad holds that showing the redacted source
// parses nothing: it is computed once, at load.
func TestRedactedSourceComputedAtLoad(t *testing.T) {
	p := mustParse(t, redactHead+"    params:\n      from: \"+15005550006\"\n      sip_auth_password: hunter2-secret\n"+redactTail)
	if allocs := testing.AllocsPerRun(100, func() { _ = p.RedactedSource() }); allocs != 0 {
		t.Errorf("RedactedSource allocates %v times a call; it must not parse", allocs)
	}
	if strings.Contains(string(p.RedactedSource()), "hunter2") {
		t.Error("the secret is shown")
	}
}
