package experiment

// Set is the experiments of one policy, in the order the policy defines
// them. It is immutable and safe for concurrent use.
type Set struct {
	splits []*Split
}

// NewSet returns the set of splits; there may be at most Max of them.
func NewSet(splits []*Split) *Set {
	if len(splits) > Max {
		panic("experiment: more than Max experiments in a set")
	}
	return &Set{splits: splits}
}

// Len returns the number of experiments; a nil Set has none.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.splits)
}

// Split returns the i-th experiment's split.
func (s *Set) Split(i int) *Split { return s.splits[i] }

// Index returns the index of the experiment called name, or -1. It does
// not allocate.
func (s *Set) Index(name string) int {
	if s == nil {
		return -1
	}
	for i, sp := range s.splits {
		if sp.name == name {
			return i
		}
	}
	return -1
}

// Arms records which experiments one decision evaluated and the arm of
// each, in fixed arrays so that recording costs no allocation. The zero
// value records nothing.
type Arms struct {
	set      *Set
	seen     uint16
	fallback uint16
	arm      [Max]uint8
}

// Record notes that experiment i of set was evaluated and gave arm;
// fallback says the key could not render and the fallback key was used.
func (a *Arms) Record(set *Set, i, arm int, fallback bool) {
	a.set = set
	a.seen |= 1 << i
	if fallback {
		a.fallback |= 1 << i
	}
	a.arm[i] = uint8(arm)
}

// Seen returns experiment i's recorded arm index and whether it was
// evaluated.
func (a *Arms) Seen(i int) (arm int, ok bool) {
	if i < 0 || i >= Max || a.seen&(1<<i) == 0 {
		return 0, false
	}
	return int(a.arm[i]), true
}

// Empty reports whether no experiment was evaluated.
func (a *Arms) Empty() bool { return a.seen == 0 }

// Set returns the experiments the arms refer to; nil when Empty.
func (a *Arms) Set() *Set { return a.set }

// Len returns the number of experiments of the set, evaluated or not;
// pass each index below it to Get.
func (a *Arms) Len() int { return a.set.Len() }

// Get returns the name and arm of experiment i, and whether the decision
// evaluated it. It does not allocate.
func (a *Arms) Get(i int) (experiment, arm string, ok bool) {
	k, ok := a.Seen(i)
	if !ok || a.set == nil {
		return "", "", false
	}
	sp := a.set.splits[i]
	return sp.name, sp.arms[k].Name, true
}

// Fallback reports whether experiment i's arm came from the fallback key.
func (a *Arms) Fallback(i int) bool { return a.fallback&(1<<i) != 0 }
