// Package experiment assigns callers to the arms of an experiment: a hash
// of the experiment's name, its salt and a caller's key picks a point in
// [0, Points), and the arms own consecutive ranges of points in the order
// they are declared, each as wide as its weight. The hash is fixed (FNV-1a
// over name, salt and key, then a 64-bit finalizer), so every replica, every
// restart and every release puts the same key in the same arm; changing
// it would reshuffle every running experiment.
//
// Moving weights moves as few callers as possible between two arms next
// to each other in the declared order: their shared boundary moves and
// only the points between the old and the new boundary change arm, all of
// them into the arm that grew. With two arms that is every change. With
// more arms, changing the weights of arms that are not neighbours shifts
// the arms between them too, so keep the arm that grows next to the arm
// it takes from (say, control first and the arm being ramped second).
package experiment

import (
	"fmt"
	"math/bits"
)

// Points is the resolution of a split: a weight of 1 percent is 100 points.
const Points = 10000

// Max is the most experiments one policy may define, so that a decision
// records its arms in fixed arrays (see Arms) without allocating.
const Max = 16

// MaxArms is the most arms one experiment may have; arm indices fit a byte.
const MaxArms = 100

// Arm is one arm of an experiment and its weight, in percent.
type Arm struct {
	Name   string
	Weight int
}

// Split is one experiment's assignment: it maps keys onto arms. It is
// immutable and safe for concurrent use.
type Split struct {
	name, salt string
	arms       []Arm
	// upper[i] is the first point past arm i's range.
	upper []uint32
	// seed is the hash state after the name and the salt.
	seed uint64
}

// NewSplit builds the split of experiment name over arms, whose weights
// must be whole percentages summing to 100. A different salt reshuffles
// the callers as renaming the experiment would.
func NewSplit(name, salt string, arms []Arm) (*Split, error) {
	if len(arms) == 0 || len(arms) > MaxArms {
		return nil, fmt.Errorf("experiment %q: needs between 1 and %d arms, not %d", name, MaxArms, len(arms))
	}
	s := &Split{name: name, salt: salt, arms: append([]Arm(nil), arms...), upper: make([]uint32, len(arms))}
	sum := 0
	seen := map[string]bool{}
	for i, a := range arms {
		if a.Weight < 0 || a.Weight > 100 {
			return nil, fmt.Errorf("experiment %q: arm %q: weight %d is not between 0 and 100", name, a.Name, a.Weight)
		}
		if seen[a.Name] {
			return nil, fmt.Errorf("experiment %q: arm %q appears twice", name, a.Name)
		}
		seen[a.Name] = true
		sum += a.Weight
		s.upper[i] = uint32(min(sum, 100) * (Points / 100))
	}
	if sum != 100 {
		return nil, fmt.Errorf("experiment %q: weights sum to %d, not 100", name, sum)
	}
	h := Hash{state: fnvOffset}
	h.WriteString(name)
	h.writeByte(0)
	h.WriteString(salt)
	h.writeByte(0)
	s.seed = h.state
	return s, nil
}

// Name returns the experiment's name.
func (s *Split) Name() string { return s.name }

// Arms returns the arms in declared order; callers must not modify it.
func (s *Split) Arms() []Arm { return s.arms }

// ArmIndex returns the index of the arm called name, or -1.
func (s *Split) ArmIndex(name string) int {
	for i, a := range s.arms {
		if a.Name == name {
			return i
		}
	}
	return -1
}

// Hasher returns the hash state to feed the key into, for keys rendered
// piece by piece; Assign is the same for a key held in one string.
func (s *Split) Hasher() Hash { return Hash{state: s.seed} }

// Point returns the key's point in [0, Points).
func (s *Split) Point(key string) int {
	h := s.Hasher()
	h.WriteString(key)
	return h.Point()
}

// Assign returns the index of the arm key belongs to. It does not allocate.
func (s *Split) Assign(key string) int { return s.ArmAt(s.Point(key)) }

// ArmAt returns the index of the arm that owns point.
func (s *Split) ArmAt(point int) int {
	for i, u := range s.upper {
		if uint32(point) < u {
			return i
		}
	}
	return len(s.upper) - 1
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Hash is an FNV-1a hash state; the zero value is not a valid state (use
// Split.Hasher). It is a value so that hashing a key costs no allocation.
type Hash struct{ state uint64 }

// WriteString adds s to the hash.
func (h *Hash) WriteString(s string) {
	x := h.state
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= fnvPrime
	}
	h.state = x
}

// Write adds b to the hash.
func (h *Hash) Write(b []byte) {
	x := h.state
	for _, c := range b {
		x ^= uint64(c)
		x *= fnvPrime
	}
	h.state = x
}

// writeByte adds c to the hash; it separates the name from the salt.
func (h *Hash) writeByte(c byte) {
	h.state = (h.state ^ uint64(c)) * fnvPrime
}

// Point returns the point in [0, Points) of what was written. FNV-1a's
// low bits mix poorly, so the state first goes through the murmur3 64-bit
// finalizer; the point is then the top of the 128-bit product with Points,
// which is uniform without the bias of a modulo.
func (h *Hash) Point() int {
	x := h.state
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb3f9e63a1c53
	x ^= x >> 33
	hi, _ := bits.Mul64(x, Points)
	return int(hi)
}
