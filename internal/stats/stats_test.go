package stats

import (
	"math"
	"testing"
)

// TestWilsonNewcombe checks the four worked examples of Newcombe, R. G.
// (1998), "Two-sided confidence intervals for the single proportion:
// comparison of seven methods", Statistics in Medicine 17:857-872, Table
// II, method 3 (the Wilson score interval without continuity correction),
// published to four decimals.
func TestWilsonNewcombe(t *testing.T) {
	for _, tc := range []struct {
		k, n   uint64
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0.0000, 0.1611},
		{1, 29, 0.0061, 0.1718},
	} {
		got := Wilson(tc.k, tc.n)
		if math.Abs(got.Lo-tc.lo) > 0.00005 || math.Abs(got.Hi-tc.hi) > 0.00005 {
			t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], published [%.4f, %.4f]", tc.k, tc.n, got.Lo, got.Hi, tc.lo, tc.hi)
		}
	}
	if got := Wilson(0, 0); got != (Interval{0, 1}) {
		t.Errorf("Wilson(0, 0) = %v, want [0, 1]", got)
	}
}

// TestTwoProportionOpenIntro checks the worked example of OpenIntro
// Statistics (Diez, Çetinkaya-Rundel, Barr, 4th ed., section 6.2.3): the
// mammogram trial, 500 deaths among 44,425 screened and 505 among 44,405
// controls, pooled proportion 0.0113, Z = -0.17 and a p-value of about
// 0.87 (the book rounds Z before looking up the tail, so both are held to
// the precision it prints).
func TestTwoProportionOpenIntro(t *testing.T) {
	zt, ok := TwoProportion(505, 44405, 500, 44425)
	if !ok {
		t.Fatal("test refused")
	}
	if math.Abs(zt.Z-(-0.17)) > 0.005 {
		t.Errorf("Z = %.4f, published -0.17", zt.Z)
	}
	if math.Abs(zt.P-0.87) > 0.01 {
		t.Errorf("P = %.4f, published 0.87", zt.P)
	}
	// A textbook-sized difference: 45/100 vs 60/100, pooled 0.525,
	// SE = sqrt(0.525*0.475*0.02) = 0.070622, Z = 2.1240, p = 0.0337.
	zt, _ = TwoProportion(45, 100, 60, 100)
	if math.Abs(zt.Z-2.1240) > 0.0001 || math.Abs(zt.P-0.0337) > 0.0001 {
		t.Errorf("45/100 vs 60/100: Z = %.4f, P = %.4f; want 2.1240, 0.0337", zt.Z, zt.P)
	}
	if _, ok := TwoProportion(0, 0, 1, 2); ok {
		t.Error("an empty sample was tested")
	}
	if _, ok := TwoProportion(0, 10, 0, 10); ok {
		t.Error("a pooled proportion of 0 was tested")
	}
}

// TestSampleSizeFleiss checks the sample size per group for a two-sided
// test at 5% with 80% power against Fleiss, Levin and Paik, Statistical
// Methods for Rates and Proportions (3rd ed., 2003), Table A.4, which is
// continuity-corrected, and the uncorrected values of eq. 4.14 that the
// same table's entries come from.
func TestSampleSizeFleiss(t *testing.T) {
	for _, tc := range []struct {
		p1, p2           float64
		plain, corrected uint64
	}{
		{0.05, 0.10, 435, 474},
		{0.50, 0.60, 388, 408},
		{0.10, 0.20, 199, 219},
		{0.20, 0.30, 294, 313},
	} {
		if got := SampleSize(tc.p1, tc.p2); got != tc.plain {
			t.Errorf("SampleSize(%v, %v) = %d, want %d", tc.p1, tc.p2, got, tc.plain)
		}
		if got := SampleSizeCorrected(tc.p1, tc.p2); got != tc.corrected {
			t.Errorf("SampleSizeCorrected(%v, %v) = %d, Table A.4 %d", tc.p1, tc.p2, got, tc.corrected)
		}
		if SampleSize(tc.p1, tc.p2) != SampleSize(tc.p2, tc.p1) {
			t.Errorf("SampleSize(%v, %v) is not symmetric", tc.p1, tc.p2)
		}
	}
	for _, bad := range [][2]float64{{0.5, 0.5}, {0, 0.1}, {0.9, 1}} {
		if got := SampleSize(bad[0], bad[1]); got != 0 {
			t.Errorf("SampleSize(%v) = %d, want 0", bad, got)
		}
	}
}
