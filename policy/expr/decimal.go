package expr

import (
	"strings"
)

// maxPlainDigits bounds the digits plainDecimal writes out; a number
// needing more (1e999) is written as float64 reads it.
const maxPlainDigits = 400

// plainDecimal writes a JSON number in plain decimal, as templates insert
// numbers into text: one without an exponent exactly as sent (an ID such
// as 12345678901234567890 does not survive float64, and 0.10 stays 0.10),
// one with an exponent without it (1e2 is 100, 1.5e1 is 15, 2.5e-1 is
// 0.25). The digits are moved, not converted, so no precision is lost. A
// number whose plain form would put its point more than maxPlainDigits
// from its digits (1e-700, 1e99999) is inserted as sent: a float64
// reading would change its value (1e-700 is 0 in float64).
func plainDecimal(num string) string {
	mant, exp, hasExp := strings.Cut(strings.ToLower(num), "e")
	if !hasExp {
		return num
	}
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	intPart, frac, _ := strings.Cut(mant, ".")
	shift := 0
	if hasExp {
		e := strings.TrimPrefix(exp, "+")
		eneg := strings.HasPrefix(e, "-")
		e = strings.TrimPrefix(e, "-")
		if len(e) > 4 {
			return num
		}
		for _, c := range e {
			shift = shift*10 + int(c-'0')
		}
		if eneg {
			shift = -shift
		}
	}
	digits := intPart + frac
	point := len(intPart) + shift // the decimal point's place in digits
	if point > maxPlainDigits || point < -maxPlainDigits {
		return num
	}
	for point > len(digits) {
		digits += "0"
	}
	for point < 0 {
		digits = "0" + digits
		point++
	}
	whole := strings.TrimLeft(digits[:point], "0")
	if whole == "" {
		whole = "0"
	}
	out := whole
	if fr := strings.TrimRight(digits[point:], "0"); fr != "" {
		out += "." + fr
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out
}
