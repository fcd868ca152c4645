package gate

import (
	"fmt"
	"math"
	"strings"

	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

// Sequential runs (run.sequential; README "Sequential runs", STATISTICS.md
// "Sequential looks").
//
// A sequential run calls its samples in a seeded random order and looks at
// the evidence after set numbers of them (the design's looks). The design is
// a group-sequential one with alpha spending (Lan and DeMets 1983): the
// spending function A(t) = α·t² (the power family of Kim and DeMets 1987)
// says how much of the one-sided level α the looks up to the share t of the
// samples may spend, and look k decides at the nominal level a_k whose
// boundary a path that crossed no earlier boundary crosses with probability
// A(t_k) − A(t_{k−1}), the looks' statistics correlated as √(t_j/t_k)
// (boundary.go). So
//
//	P(some look fails a criterion at its margin) = Σ_k (A(t_k) − A(t_{k−1})) = α
//
// for statistics that are normal with independent increments: the t,
// Tango's and the other score intervals, Fieller's and the order statistics'
// intervals, asymptotically. For small samples and discrete data (the exact
// test, Clopper-Pearson) the guarantee is shown by simulation
// (scripts/gatesim -only seq), as every guarantee of the gate is. Holm's
// correction across criteria runs inside each look, a check that holds the
// share 1/j of α decided at the look's level in the design at α/j
// (Config.levelAt; criteria.go). Non-inferiority passes the same way: a
// false pass needs some look to show a check at its margin within it.
//
// Why these choices, measured with scripts/gatesim (the table in its
// RESULTS.md; the alternatives on 300 runs per cell at n = 50 and 200):
//   - A union bound (a_k = A(t_k) − A(t_{k−1})) holds for any dependence
//     between the looks, but gives the later looks much less than they may
//     have: the final look of α·t³ got 0.0145 instead of 0.0212, and a run
//     that went to the end detected a regression of twice the margin 5-10
//     points less often than a fixed-size run. With the looks' correlation
//     (and t²) it costs 1-4 points; on error rates at n ≤ 200, 8-14, where
//     Clopper-Pearson's discreteness makes any smaller level cost a count.
//   - t² spends more early than t³ (0.001 at 20% of the samples against
//     0.0002), which a clear verdict needs on pass/fail data and error
//     rates: at n = 200 clear passes of a pass rate stopped after 37% of the
//     samples instead of 42%, and at n = 50 error-rate passes after 50%
//     instead of 76%. t^1.5 and denser looks (every 10-15% of the samples)
//     saved at most 4 more points of samples and cost 1-4 points of power.
//   - Lan and DeMets' O'Brien-Fleming function spends too little early
//     (5e-7 at 20%) for a look before half the samples to settle anything.
//
// A look settles a check when its interval excludes the limit: wholly past it
// (regressed in either mode) or wholly within it (shown within; a pass in
// either mode). The run stops calling once every fail-severity check is
// settled; otherwise it goes on, and a run that reaches its end is judged on
// every sample at the final look's level.

// DefaultLooks are the looks of a sequential run, as shares of its samples.
var DefaultLooks = []float64{0.2, 0.35, 0.5, 0.75, 1}

// MinFirstLook is the fewest samples a first look compares: below about 10
// pairs no method here can settle a check at the small level an early look
// gets, so an earlier look would spend α for nothing.
const MinFirstLook = 10

// spent is the spending function: the share of the one-sided level alpha a
// design may have spent once a share t of the samples was seen.
func spent(alpha, t float64) float64 {
	switch {
	case t <= 0:
		return 0
	case t >= 1:
		return alpha
	}
	return alpha * t * t
}

// minLevel keeps a look's level where the intervals are still finite numbers:
// a look with nothing to spend settles nothing anyway, and 1e-12 per look
// adds nothing measurable to the design's α.
const minLevel = 1e-12

// PlanLooks turns the looks' shares of the samples (increasing, in (0, 1])
// into sample counts for a run of total samples: the first at least
// MinFirstLook, each larger than the one before, the last the total. A
// share that would not add a sample is dropped.
func PlanLooks(shares []float64, total int) []int {
	var out []int
	prev := 0
	for _, f := range shares {
		n := int(math.Ceil(f * float64(total)))
		n = max(n, MinFirstLook)
		if n <= prev || n >= total {
			continue
		}
		out = append(out, n)
		prev = n
	}
	if total > 0 {
		out = append(out, total)
	}
	return out
}

// LookLevel returns the one-sided level at which the verdict of a sequential
// run is taken, for a gate at one-sided level alpha, and that look's number
// (from 1) among the planned ones. used is the number of samples the verdict
// compares when the run did not stop (every sample it evaluated; 0 means the
// total).
//
// Each look spends the spending function's increment A(t_k) − A(t_{k−1}) as
// the probability of crossing its boundary on a path that crossed none
// before (nominalLevels). A run that stopped at an interim look is judged at
// that look's level. A run that did not stop is judged at a final analysis
// on the used samples that spends what the design left for the planned look
// after the last one it took: the rest of α when it took them all. A run cut
// short (budget, deadline) is so judged at the share of the samples it has,
// with what the look it was heading for would have spent.
func LookLevel(alpha float64, s *results.Sequential, used int) (level float64, look int, err error) {
	if err := checkSequential(s); err != nil {
		return 0, 0, err
	}
	if !s.Stopped && used > 0 && len(s.Looks) > 0 && used < s.Looks[len(s.Looks)-1] {
		return 0, 0, fmt.Errorf("sequential summary: the final analysis has %d samples, fewer than the %d of look %d; the file was edited, so run the suite again", used, s.Looks[len(s.Looks)-1], len(s.Looks))
	}
	if used > s.Total {
		return 0, 0, fmt.Errorf("sequential summary: the results hold %d samples, more than the run's total of %d; the file was edited, so run the suite again", used, s.Total)
	}
	level, look = lookLevel(alpha, s, used)
	return level, look, nil
}

// lookLevel is LookLevel on a summary already checked.
func lookLevel(alpha float64, s *results.Sequential, used int) (level float64, look int) {
	frac := func(n int) float64 { return float64(n) / float64(s.Total) }
	spend := func(t float64) float64 { return spent(alpha, t) }
	k := len(s.Looks)
	t := make([]float64, 0, k+1)
	for _, n := range s.Looks {
		t = append(t, frac(n))
	}
	inc := increments(t, spend)
	look = k
	if !s.Stopped {
		if used <= 0 {
			used = s.Total
		}
		last := 0
		if k > 0 {
			last = s.Looks[k-1]
		}
		// The final analysis spends up to the planned look it stands in
		// for, whatever its own share of the samples.
		prev := 0.0
		if k > 0 {
			prev = t[k-1]
		}
		t = append(t, frac(max(used, last)))
		inc = append(inc, spend(frac(s.Planned[k]))-spend(prev))
		look = k + 1
	}
	levels := designLevels(t, inc)
	return max(levels[len(levels)-1], minLevel), look
}

// checkSequential checks that a results file's sequential summary is one a
// run writes: looks taken are the first of the planned ones.
func checkSequential(s *results.Sequential) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("sequential summary: "+format+"; the file was edited, so run the suite again", args...)
	}
	switch {
	case s.Total < 1:
		return bad("total %d samples", s.Total)
	case len(s.Planned) == 0 || s.Planned[len(s.Planned)-1] != s.Total:
		return bad("the planned looks %v do not end at the total of %d samples", s.Planned, s.Total)
	case len(s.Looks) >= len(s.Planned):
		return bad("%d looks taken of %d planned, but the last is the final analysis", len(s.Looks), len(s.Planned))
	case s.Stopped && len(s.Looks) == 0:
		return bad("stopped at no look")
	}
	for i, n := range s.Planned {
		if n < 1 || i > 0 && n <= s.Planned[i-1] {
			return bad("the planned looks %v are not increasing sample counts", s.Planned)
		}
	}
	for i, n := range s.Looks {
		if n != s.Planned[i] {
			return bad("look %d compared %d samples, the design planned %d", i+1, n, s.Planned[i])
		}
	}
	return nil
}

// Look is where a sequential run's verdict stands: at which look, on how
// many of the run's samples, at what level, and why it stopped there.
type Look struct {
	// Look is the look's number (from 1) of Looks planned.
	Look  int `json:"look"`
	Looks int `json:"looks"`
	// Samples is the number of samples the verdict compares (the first of
	// the seeded order; every sample the run evaluated when it did not
	// stop), of Total.
	Samples int `json:"samples"`
	Total   int `json:"total"`
	// Level is the look's one-sided level; Alpha the gate's, which the
	// design shares among the looks.
	Level float64 `json:"level"`
	Alpha float64 `json:"alpha"`
	Seed  uint64  `json:"seed"`
	// Stopped is set when the run stopped calling at this look; Reason
	// says why, or why it went on to the end.
	Stopped bool   `json:"stopped"`
	Reason  string `json:"reason"`
}

// FormatConfidence writes a confidence level as a percentage with the digits
// it needs: a sequential run's early look is at 99.96%, not 100%.
func FormatConfidence(c float64) string { return fmtLevel(c) }

// Summary is the look in one sentence, for the report and the terminal.
func (l *Look) Summary() string {
	lvl := fmt.Sprintf("decided at the look's one-sided level %.2g of the gate's %.3g (%s intervals)", l.Level, l.Alpha, fmtLevel(1-2*l.Level))
	if l.Stopped {
		return fmt.Sprintf("Sequential run (seed %d): stopped at look %d of %d, after %d of %d samples (%.0f%%): %s; %s.",
			l.Seed, l.Look, l.Looks, l.Samples, l.Total, 100*float64(l.Samples)/float64(max(l.Total, 1)), l.Reason, lvl)
	}
	return fmt.Sprintf("Sequential run (seed %d): used %d of %d samples, judged at look %d of %d: %s; %s.",
		l.Seed, l.Samples, l.Total, l.Look, l.Looks, l.Reason, lvl)
}

// applyLook judges a sequential run's results as its design says: on the
// samples it used and at its look's level (cfg.Look, else the target's
// results summary). It drops the other samples' records from both sides and
// sets cfg's confidence to the look's level; nil when the run was not
// sequential.
func applyLook(cfg *Config, b, t *side) (*Look, error) {
	s := cfg.Look
	if s == nil {
		s = t.seq
	}
	if s == nil {
		return nil, nil
	}
	alpha := (1 - cfg.Confidence) / 2
	seen := 0
	if !s.Stopped {
		ids := map[int32]bool{}
		for _, id := range t.recs.sample {
			ids[id] = true
		}
		seen = len(ids)
	}
	level, look, err := LookLevel(alpha, s, seen)
	if err != nil {
		return nil, fmt.Errorf("target results %s: %w", t.ref.Path, err)
	}
	cfg.Confidence = 1 - 2*level
	// A check that Holm's correction gives the share 1/j of α is decided
	// at the look's level in the design at α/j, not at 1/j of this look's
	// level: the looks' correlation is worth less at smaller levels
	// (README "Sequential runs").
	cfg.levelAt = func(j int) float64 {
		if j == 1 {
			return level
		}
		lv, _ := lookLevel(alpha/float64(j), s, seen)
		return lv
	}
	l := &Look{Look: look, Looks: len(s.Planned), Total: s.Total, Level: level, Alpha: alpha, Seed: s.Seed, Stopped: s.Stopped, Reason: s.Reason, Samples: seen}
	if s.Stopped {
		// One decision per sample number: both sides share the table.
		used := make([]bool, len(t.samples.list))
		for i, id := range t.samples.list {
			used[i] = s.Uses(id)
		}
		for _, sd := range []*side{b, t} {
			if err := sd.keep(func(i int) bool { return used[sd.recs.sample[i]] }); err != nil {
				return nil, err
			}
		}
		l.Samples = s.Looks[len(s.Looks)-1]
	}
	if l.Reason == "" {
		l.Reason = "not every fail-severity criterion was settled at an earlier look"
	}
	return l, nil
}

// keep drops the records for which keep(i) is false, and lists the rest by
// key again.
func (s *side) keep(keep func(i int) bool) error {
	var idx []int
	for i := range s.len() {
		if keep(i) {
			idx = append(idx, i)
		}
	}
	if len(idx) == s.len() {
		return nil
	}
	c := &s.recs
	c.sample, c.repeat, c.cluster = gather(c.sample, idx), gather(c.repeat, idx), gather(c.cluster, idx)
	c.input, c.errored = gather(c.input, idx), gather(c.errored, idx)
	o := &c.ops
	o.latency, o.ttft, o.cost = gather(o.latency, idx), gather(o.ttft, idx), gather(o.cost, idx)
	o.hasCost, o.inTok, o.outTok = gather(o.hasCost, idx), gather(o.inTok, idx), gather(o.outTok, idx)
	for m, col := range c.scores {
		if col == nil {
			continue
		}
		// A column may end before the last record: the rest are missing.
		out := make([]float64, len(idx))
		for j, i := range idx {
			out[j] = math.NaN()
			if i < len(col) {
				out[j] = col[i]
			}
		}
		c.scores[m] = out
	}
	return s.index()
}

// gather returns x's elements at idx, in order.
func gather[T any](x []T, idx []int) []T {
	out := make([]T, len(idx))
	for j, i := range idx {
		out[j] = x[i]
	}
	return out
}

// Settled reports whether the check is decided either way: its interval
// excludes the limit, wholly past it (a fail) or wholly within it (a pass).
// A pass in regression mode whose interval reaches past the limit is not
// settled: more samples could still show a regression.
func (c CriterionResult) Settled() bool {
	lim, iv := float64(c.Limit), c.Estimate
	excludes := iv.Lo > lim || iv.Hi < lim
	return excludes && (c.Status == CheckFail || c.Status == CheckPass)
}

// Settled reports whether a look's verdict settles the run: every
// fail-severity check's interval excludes its limit (shown within it, or
// wholly past it). why says so with the counts, or names the first check
// still open.
func Settled(v *Verdict) (settled bool, why string) {
	within, past, open := 0, 0, []string(nil)
	for _, c := range v.Criteria {
		if c.Severity == suite.SeverityWarn {
			continue
		}
		switch {
		case c.Settled() && c.Status == CheckFail:
			past++
		case c.Settled():
			within++
		default:
			open = append(open, c.Metric+" "+c.Check)
		}
	}
	n := within + past + len(open)
	switch {
	case n == 0:
		return false, "no fail-severity criterion to settle"
	case len(open) > 0:
		return false, fmt.Sprintf("%d of %d fail-severity checks not settled (%s)", len(open), n, strings.Join(open, ", "))
	}
	return true, fmt.Sprintf("all %d fail-severity checks settled (%d shown within the limit, %d past it)", n, within, past)
}
