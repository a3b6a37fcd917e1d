package twilio

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/assignd/assignd/policy"
)

func TestRESTForm(t *testing.T) {
	tests := []struct {
		name string
		ins  policy.Instruction
		want url.Values
	}{
		{"accept", policy.Instruction{Name: policy.Accept}, url.Values{"ReservationStatus": {"accepted"}}},
		{"reject", policy.Instruction{Name: policy.Reject, Params: []policy.Param{{Name: "activity_sid", Value: "WA0123456789abcdef0123456789abcdef"}}},
			url.Values{"ReservationStatus": {"rejected"}, "WorkerActivitySid": {"WA0123456789abcdef0123456789abcdef"}}},
		{"conference with a list", policy.Instruction{Name: policy.Conference, Params: []policy.Param{
			{Name: "from", Value: "+15005550006"}, {Name: "record", Value: true}, {Name: "timeout", Value: 20},
			{Name: "conference_status_callback_event", Value: []string{"start", "end"}}}},
			url.Values{"Instruction": {"conference"}, "From": {"+15005550006"}, "Record": {"true"}, "Timeout": {"20"},
				"ConferenceStatusCallbackEvent": {"start", "end"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RESTForm(tt.ins)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("form = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := RESTForm(policy.Instruction{Name: policy.Accept, Params: []policy.Param{{Name: "to", Value: "x"}}}); err == nil {
		t.Error("a parameter accept does not take was encoded")
	}
}
