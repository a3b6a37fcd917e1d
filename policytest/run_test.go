package policytest

import (
	"reflect"
	"testing"

	"github.com/assignd/assignd/policy"
)

func TestCompare(t *testing.T) {
	d := policy.Decision{Rule: "vip", Mode: policy.Update, Instruction: policy.Instruction{Name: policy.Conference, Params: []policy.Param{
		{Name: "from", Value: "+18005550199"}, {Name: "timeout", Value: 30}, {Name: "sip_auth_password", Value: "hunter2"},
	}}, Skipped: []policy.Skip{{Rule: "callbacks", Reason: "render"}}}
	tests := []struct {
		name   string
		expect Expect
		want   []string
	}{
		{"all met", Expect{Rule: "vip", Instruction: "conference", Mode: policy.Update,
			Params:  []ExpectParam{{"from", "+18005550199"}, {"timeout", "30"}, {"sip_auth_password", "hunter2"}},
			Skipped: []ExpectSkip{{"callbacks", "render"}}, HasSkipped: true}, nil},
		{"rule and mode", Expect{Rule: "default", Mode: policy.Respond},
			[]string{`rule: expected "default", got "vip"`, "mode: expected respond, got update"}},
		{"params", Expect{Params: []ExpectParam{{"timeout", 31}, {"record", true}, {"sip_auth_password", "x"}}}, []string{
			"params.timeout: expected 31, got 30",
			"params.record: expected true, got none: the rule does not set it",
			"params.sip_auth_password: differs from the expected value; a secret, so neither is shown"}},
		{"reply in update mode", Expect{Reply: []byte(`{"instruction":"conference"}`)},
			[]string{`reply: expected {"instruction":"conference"}, got none: update mode replies with an empty body`}},
		{"no skips expected", Expect{HasSkipped: true, Skipped: []ExpectSkip{}},
			[]string{"skipped: expected [], got [callbacks (render)]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compare(&tt.expect, &d); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
