package experiment

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func mustSplit(t testing.TB, name, salt string, arms ...Arm) *Split {
	t.Helper()
	s, err := NewSplit(name, salt, arms)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// syntheticKey is the i-th of a family of phone-number-like keys, close
// together as real numbers are.
func syntheticKey(i int) string { return fmt.Sprintf("+1415555%07d", i) }

// TestSplitShares puts 100,000 synthetic keys through splits of several
// shapes: each arm gets its weight within one percentage point.
func TestSplitShares(t *testing.T) {
	const n = 100000
	for _, arms := range [][]Arm{
		{{"control", 80}, {"treatment", 20}},
		{{"control", 50}, {"treatment", 50}},
		{{"control", 99}, {"treatment", 1}},
		{{"a", 34}, {"b", 33}, {"c", 33}},
		{{"control", 90}, {"off", 0}, {"treatment", 10}},
	} {
		s := mustSplit(t, "vip_conference", "", arms...)
		counts := make([]int, len(arms))
		for i := range n {
			counts[s.Assign(syntheticKey(i))]++
		}
		for i, a := range arms {
			got := 100 * float64(counts[i]) / n
			if d := got - float64(a.Weight); d > 1 || d < -1 {
				t.Errorf("%v: arm %s got %.2f%% of keys, weight %d", arms, a.Name, got, a.Weight)
			}
		}
	}
}

// TestRaisingWeightMovesOnlyIntoGrowingArm ramps treatment from 10 to 20
// (and, with three arms, grows an arm at its neighbour's expense): every
// key that changes arm moves into the arm that grew, and the callers of
// the arm that grew all stay.
func TestRaisingWeightMovesOnlyIntoGrowingArm(t *testing.T) {
	for _, tc := range []struct {
		before, after []Arm
		grows         string
	}{
		{[]Arm{{"control", 90}, {"treatment", 10}}, []Arm{{"control", 80}, {"treatment", 20}}, "treatment"},
		{[]Arm{{"treatment", 10}, {"control", 90}}, []Arm{{"treatment", 20}, {"control", 80}}, "treatment"},
		{[]Arm{{"control", 90}, {"treatment", 10}}, []Arm{{"control", 100}, {"treatment", 0}}, "control"},
		{[]Arm{{"control", 80}, {"b", 10}, {"c", 10}}, []Arm{{"control", 70}, {"b", 20}, {"c", 10}}, "b"},
		{[]Arm{{"a", 30}, {"b", 30}, {"c", 40}}, []Arm{{"a", 30}, {"b", 20}, {"c", 50}}, "c"},
	} {
		before := mustSplit(t, "ramp", "", tc.before...)
		after := mustSplit(t, "ramp", "", tc.after...)
		moved := 0
		for i := range 50000 {
			k := syntheticKey(i)
			b, a := before.Arms()[before.Assign(k)].Name, after.Arms()[after.Assign(k)].Name
			if b == a {
				continue
			}
			moved++
			if a != tc.grows {
				t.Fatalf("%v -> %v: key %s moved from %s to %s, not into %s", tc.before, tc.after, k, b, a, tc.grows)
			}
		}
		if moved == 0 {
			t.Errorf("%v -> %v: no key moved", tc.before, tc.after)
		}
	}
}

// TestSaltAndNameReshuffle: the same key lands independently under
// another name or salt, so about half of a 50:50 split changes arm.
func TestSaltAndNameReshuffle(t *testing.T) {
	arms := []Arm{{"control", 50}, {"treatment", 50}}
	base := mustSplit(t, "exp", "", arms...)
	for _, other := range []*Split{mustSplit(t, "exp2", "", arms...), mustSplit(t, "exp", "2026-12", arms...)} {
		same := 0
		for i := range 10000 {
			if base.Assign(syntheticKey(i)) == other.Assign(syntheticKey(i)) {
				same++
			}
		}
		if same < 4700 || same > 5300 {
			t.Errorf("%s/%q: %d of 10000 keys kept their arm; want about half", other.Name(), other.salt, same)
		}
	}
}

// pinnedKeys and their points under experiment "vip_conference" are
// fixed forever: a change to the hash would move every running
// experiment's callers.
var pinnedKeys = []string{"+14155550100", "+442071838750", "WT0123456789abcdef0123456789abcdef", ""}

// TestSameArmInAnotherProcess runs this test binary again, which prints
// the points of the pinned keys; they must equal this process's, as they
// must on every replica.
func TestSameArmInAnotherProcess(t *testing.T) {
	if os.Getenv("ASSIGND_EXPERIMENT_CHILD") == "1" {
		s := mustSplit(t, "vip_conference", "", Arm{"control", 80}, Arm{"treatment", 20})
		for _, k := range pinnedKeys {
			fmt.Printf("point %d\n", s.Point(k))
		}
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestSameArmInAnotherProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ASSIGND_EXPERIMENT_CHILD=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var child []int
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "point "); ok {
			n, _ := strconv.Atoi(v)
			child = append(child, n)
		}
	}
	s := mustSplit(t, "vip_conference", "", Arm{"control", 80}, Arm{"treatment", 20})
	if len(child) != len(pinnedKeys) {
		t.Fatalf("child printed %d points, want %d:\n%s", len(child), len(pinnedKeys), out)
	}
	for i, k := range pinnedKeys {
		if p := s.Point(k); p != child[i] {
			t.Errorf("key %q: point %d here, %d in the child", k, p, child[i])
		}
	}
}

// TestPointsArePinned holds the hash to fixed values, so that a release
// that changed it would fail here before it reshuffled production.
func TestPointsArePinned(t *testing.T) {
	s := mustSplit(t, "vip_conference", "", Arm{"control", 80}, Arm{"treatment", 20})
	want := []int{9801, 2448, 8662, 4327}
	for i, k := range pinnedKeys {
		if p := s.Point(k); p != want[i] {
			t.Errorf("Point(%q) = %d, pinned %d", k, p, want[i])
		}
	}
}

func TestNewSplitErrors(t *testing.T) {
	for _, tc := range []struct {
		arms []Arm
		want string
	}{
		{nil, "between 1 and 100 arms"},
		{[]Arm{{"a", 50}, {"b", 40}}, "weights sum to 90, not 100"},
		{[]Arm{{"a", 50}, {"a", 50}}, `arm "a" appears twice`},
		{[]Arm{{"a", 150}, {"b", -50}}, "not between 0 and 100"},
	} {
		_, err := NewSplit("x", "", tc.arms)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSplit(%v) = %v, want an error containing %q", tc.arms, err, tc.want)
		}
	}
}

func TestArmsRecord(t *testing.T) {
	a1 := mustSplit(t, "one", "", Arm{"control", 50}, Arm{"treatment", 50})
	a2 := mustSplit(t, "two", "", Arm{"x", 100})
	set := NewSet([]*Split{a1, a2})
	var arms Arms
	if !arms.Empty() || arms.Len() != 0 {
		t.Fatal("zero Arms is not empty")
	}
	arms.Record(set, 1, 0, true)
	if e, a, ok := arms.Get(1); !ok || e != "two" || a != "x" || !arms.Fallback(1) {
		t.Errorf("Get(1) = %q, %q, %v", e, a, ok)
	}
	if _, _, ok := arms.Get(0); ok || arms.Fallback(0) {
		t.Error("experiment 0 recorded without being evaluated")
	}
	if n := testing.AllocsPerRun(100, func() { arms.Record(set, 0, a1.Assign("+14155550100"), false) }); n != 0 {
		t.Errorf("Assign and Record allocate %v times", n)
	}
}

func BenchmarkAssign(b *testing.B) {
	s := mustSplit(b, "vip_conference", "", Arm{"control", 80}, Arm{"treatment", 20})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Assign("+14155550100")
	}
}
