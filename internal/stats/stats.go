// Package stats holds the few statistics an experiment report needs: the
// Wilson score interval of a proportion, the two-proportion z-test, and the
// sample size per arm to detect a difference between two proportions. All
// are the normal-approximation formulas found in Newcombe (1998) and
// Fleiss, Levin and Paik, "Statistical Methods for Rates and Proportions";
// their tests hold them to published worked examples.
package stats

import "math"

const (
	// Z95 is the standard normal quantile for a two-sided 95% interval
	// or a two-sided test at the 5% level.
	Z95 = 1.959963984540054
	// Z80 is the standard normal quantile for 80% power.
	Z80 = 0.8416212335729143
)

// Interval is a closed range of proportions.
type Interval struct {
	Lo, Hi float64
}

// Wilson returns the 95% Wilson score interval for k successes in n
// trials; for n == 0 it is [0, 1], which says nothing is known.
func Wilson(k, n uint64) Interval {
	if n == 0 {
		return Interval{0, 1}
	}
	z := Z95
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	den := 1 + z2/nf
	mid := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return Interval{Lo: math.Max(0, mid-half), Hi: math.Min(1, mid+half)}
}

// ZTest is the result of a two-proportion z-test.
type ZTest struct {
	// Diff is p2 - p1.
	Diff float64
	// Z is Diff over its standard error under the pooled null hypothesis.
	Z float64
	// P is the two-sided p-value.
	P float64
}

// TwoProportion tests whether k1/n1 and k2/n2 differ, with the pooled
// standard error. It returns ok false when either sample is empty or the
// pooled proportion is 0 or 1, where the test says nothing.
func TwoProportion(k1, n1, k2, n2 uint64) (ZTest, bool) {
	if n1 == 0 || n2 == 0 {
		return ZTest{}, false
	}
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	pool := float64(k1+k2) / float64(n1+n2)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return ZTest{Diff: p2 - p1}, false
	}
	z := (p2 - p1) / se
	return ZTest{Diff: p2 - p1, Z: z, P: math.Erfc(math.Abs(z) / math.Sqrt2)}, true
}

// SampleSize returns the trials needed in each of two equal groups to
// detect proportions p1 and p2 with a two-sided test at the 5% level and
// 80% power, rounded up (Fleiss, Levin and Paik, eq. 4.14, without the
// continuity correction). It returns 0 when p1 == p2 or either is outside
// (0, 1).
func SampleSize(p1, p2 float64) uint64 {
	n := sampleSize(p1, p2)
	if n <= 0 {
		return 0
	}
	return uint64(math.Ceil(n - 1e-9))
}

// SampleSizeCorrected is SampleSize with the Fleiss continuity correction
// (eq. 4.15), the values of Fleiss's Table A.4.
func SampleSizeCorrected(p1, p2 float64) uint64 {
	n := sampleSize(p1, p2)
	if n <= 0 {
		return 0
	}
	d := math.Abs(p2 - p1)
	c := n / 4 * math.Pow(1+math.Sqrt(1+4/(n*d)), 2)
	return uint64(math.Ceil(c - 1e-9))
}

func sampleSize(p1, p2 float64) float64 {
	if p1 == p2 || p1 <= 0 || p1 >= 1 || p2 <= 0 || p2 >= 1 {
		return 0
	}
	pbar := (p1 + p2) / 2
	a := Z95 * math.Sqrt(2*pbar*(1-pbar))
	b := Z80 * math.Sqrt(p1*(1-p1)+p2*(1-p2))
	d := p2 - p1
	return (a + b) * (a + b) / (d * d)
}
