package gate

// twoLevels returns the two values a < b that every score of xs takes, and
// false when the scores take more values, or one.
func twoLevels(xs ...[]float64) (a, b float64, ok bool) {
	set := false
	for _, x := range xs {
		for _, v := range x {
			switch {
			case !set:
				a, b, set = v, v, true
			case v == a || v == b:
			case a == b && v < a:
				a = v
			case a == b:
				b = v
			default:
				return 0, 0, false
			}
		}
	}
	return a, b, set && a < b
}

// twoLevelEstimate infers the mean of one side's scores that take two values
// a < b: the share at b, by Clopper-Pearson, mapped onto [a, b]. Like a 0..1
// score whose values are all 0 or 1, such scores are taken to be two-valued
// in fact (a judge that scores 0.5 or 1), where a t interval on a score
// that is nearly always b claims what a few values cannot show. ok is false
// for any other data.
func twoLevelEstimate(x []float64, d design) (estimate, bool) {
	a, b, ok := twoLevels(x)
	if !ok {
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

// twoLevelChange infers the change in the mean of paired scores that take, on
// both sides together, two values a < b: the change in the share at b, by the
// paired-proportion methods, times b - a. The two values are read off the
// scores, not the differences: differences of one size can come from scores
// of any kind (one difference of -0.2 in 30 pairs of F1 scores), and only
// scores that take two values make a pair one of three kinds. One unit shows
// nothing whatever its values: ok is false, and meanEstimate says so.
func twoLevelChange(bv, tv []float64, d design) (estimate, bool) {
	a, b, ok := twoLevels(bv, tv)
	if !ok || d.units(len(bv)) < 2 {
		return estimate{}, false
	}
	up, down := 0, 0
	pd := make([]float64, len(bv))
	for i := range bv {
		switch {
		case tv[i] == b && bv[i] == a:
			up++
			pd[i] = 1
		case tv[i] == a && bv[i] == b:
			down++
			pd[i] = -1
		}
	}
	return pairedProportionEstimate(up, down, len(bv), d, pd).scaled(b - a), true
}
