package policy

import "testing"

func TestCompare(t *testing.T) {
	dq := func(to string, events ...string) *Decision {
		ps := []Param{{Name: "from", Value: "+15005550006"}, {Name: "to", Value: to}}
		if events != nil {
			ps = append(ps, Param{Name: "status_callback_event", Value: events})
		}
		return &Decision{Rule: "r", Mode: Respond, Instruction: Instruction{Name: Dequeue, Params: ps}}
	}
	renamed := dq("client:a")
	renamed.Rule = "other-name"
	updateMode := dq("client:a")
	updateMode.Mode = Update
	accept := &Decision{Rule: "r", Mode: Respond, Instruction: Instruction{Name: Accept}}
	for _, tc := range []struct {
		name         string
		live, shadow *Decision
		want         Difference
	}{
		{"identical", dq("client:a"), dq("client:a"), Same},
		{"another rule saying the same", dq("client:a"), renamed, Same},
		{"same lists", dq("client:a", "answered"), dq("client:a", "answered"), Same},
		{"another value", dq("client:a"), dq("client:b"), Params},
		{"another list", dq("client:a", "answered"), dq("client:a", "completed"), Params},
		{"a parameter more", dq("client:a"), dq("client:a", "answered"), Params},
		{"another instruction", dq("client:a"), accept, OtherInstruction},
		{"another mode", dq("client:a"), updateMode, OtherInstruction},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Compare(tc.live, tc.shadow); got != tc.want {
				t.Errorf("Compare = %q, want %q", got, tc.want)
			}
		})
	}
	live, shadow := dq("client:a", "answered"), dq("client:a", "answered")
	if n := testing.AllocsPerRun(100, func() { Compare(live, shadow) }); n != 0 {
		t.Errorf("Compare allocates %v times", n)
	}
}
