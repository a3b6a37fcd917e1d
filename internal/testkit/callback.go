package testkit

import "net/url"

// CallbackForm returns a complete, valid assignment callback with the
// given task attributes JSON.
func CallbackForm(taskAttrs string) url.Values {
	return url.Values{
		"AccountSid":       {"AC11111111111111111111111111111111"},
		"WorkspaceSid":     {"WS22222222222222222222222222222222"},
		"WorkflowSid":      {"WW33333333333333333333333333333333"},
		"TaskQueueSid":     {"WQ44444444444444444444444444444444"},
		"TaskSid":          {"WT55555555555555555555555555555555"},
		"WorkerSid":        {"WK66666666666666666666666666666666"},
		"ReservationSid":   {"WR77777777777777777777777777777777"},
		"TaskAge":          {"42"},
		"TaskPriority":     {"10"},
		"Timestamp":        {"1764371000"},
		"TaskAttributes":   {taskAttrs},
		"WorkerAttributes": {`{"contact_uri":"client:alice","languages":["en","es"],"level":3}`},
	}
}
