package gate

import (
	"math"
)

// twoValuedEstimate infers the mean of data that take two values: one side's
// scores a < b (the share at b, by Clopper-Pearson, mapped onto [a, b]), or
// paired differences -g, 0 and +g (the change in the share at the higher
// value, by the paired-proportion methods, times g). Like a 0..1 score whose
// values are all 0 or 1, such data are taken to be two-valued in fact: a
// judge that scores 0.5 or 1. ok is false for any other data.
func twoValuedEstimate(x []float64, d design, paired bool) (estimate, bool) {
	if paired {
		g := 0.0
		up, down := 0, 0
		for _, v := range x {
			switch {
			case v == 0:
				continue
			case g == 0:
				g = math.Abs(v)
			case math.Abs(v) != g:
				return estimate{}, false
			}
			if v > 0 {
				up++
			} else {
				down++
			}
		}
		if g == 0 {
			return estimate{}, false
		}
		pd := make([]float64, len(x))
		for i, v := range x {
			pd[i] = v / g
		}
		return pairedProportionEstimate(up, down, len(x), d, pd).scaled(g), true
	}
	a, b := x[0], x[0]
	for _, v := range x {
		switch {
		case v == a || v == b:
		case a == b && v < a:
			a = v
		case a == b:
			b = v
		default:
			return estimate{}, false
		}
	}
	if a == b {
		return estimate{}, false
	}
	k := 0
	at := make([]float64, len(x))
	for i, v := range x {
		if v == b {
			k++
			at[i] = 1
		}
	}
	return proportionEstimate(k, len(x), d, at).scaled(b - a).shifted(a), true
}
