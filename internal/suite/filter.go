package suite

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Condition is one test of a dataset column, written in dataset.filter or a
// target's filter: exactly one of equals, in and regex.
type Condition struct {
	Column string `yaml:"column"`
	// Equals is a pointer so that `equals: ""` (an empty cell) is a test.
	Equals *string  `yaml:"equals,omitempty"`
	In     []string `yaml:"in,omitempty"`
	Regex  string   `yaml:"regex,omitempty"`
}

// Filter keeps the rows for which every condition holds. A nil *Filter keeps
// every row.
type Filter struct {
	conds []condition
}

type condition struct {
	column string
	test   func(string) bool
}

// Match reports whether a row's fields pass every condition. A column the
// row lacks reads as the empty text, as an empty CSV cell does.
func (f *Filter) Match(fields map[string]string) bool {
	if f == nil {
		return true
	}
	for _, c := range f.conds {
		if !c.test(fields[c.column]) {
			return false
		}
	}
	return true
}

// checkFilter compiles the conditions written at path (dataset.filter,
// targets[i].filter), reporting each mistake at its line; nil when there is
// nothing to filter or a condition is wrong.
func (c *checker) checkFilter(path string, conds []Condition) *Filter {
	if len(conds) == 0 {
		return nil
	}
	f := &Filter{}
	ok := true
	for i, cd := range conds {
		p := indexPath(path, i)
		if !c.require(p+".column", "; name the dataset column the condition tests") {
			ok = false
			continue
		}
		n := 0
		for _, set := range []bool{cd.Equals != nil, c.written(p + ".in"), c.written(p + ".regex")} {
			if set {
				n++
			}
		}
		if n != 1 {
			c.errorf(c.at(p), "%s: give exactly one of equals, in or regex (got %d)", p, n)
			ok = false
			continue
		}
		switch {
		case cd.Equals != nil:
			want := *cd.Equals
			f.conds = append(f.conds, condition{cd.Column, func(v string) bool { return v == want }})
		case c.written(p + ".in"):
			if len(cd.In) == 0 {
				c.errorf(c.at(p+".in"), "%s.in: list at least one value", p)
				ok = false
				continue
			}
			set := slices.Clone(cd.In)
			f.conds = append(f.conds, condition{cd.Column, func(v string) bool { return slices.Contains(set, v) }})
		default:
			re, err := regexp.Compile(cd.Regex)
			if err != nil {
				c.errorf(c.at(p+".regex"), "%s.regex: %v; write a Go (RE2) regular expression", p, err)
				ok = false
				continue
			}
			f.conds = append(f.conds, condition{cd.Column, re.MatchString})
		}
	}
	if !ok {
		return nil
	}
	return f
}

// TargetFilter returns the filter of the target with the given id: nil when
// it sees every row of the dataset.
func (s *Suite) TargetFilter(id string) *Filter { return s.targetFilters[id] }

// IDCheck finds sample ids repeated among the rows one target sees. Targets
// without a filter share the dataset's rows; a filtered target sees its own,
// so one file may hold two systems' rows under the same ids (raw and
// optimized prompt) as long as each target sees each id once.
type IDCheck struct {
	views []idView
}

type idView struct {
	target string // "" for the rows every unfiltered target sees
	view   *View
	seen   map[string]int
}

// Repeat is a sample id seen twice by one view.
type Repeat struct {
	// Target is the filtered target whose rows repeat the id; "" when the
	// repeat is among the rows of the whole dataset.
	Target    string
	FirstLine int
}

// NewIDCheck prepares the check for the given targets of s; it reads the
// targets' own files (TargetView).
func NewIDCheck(s *Suite, targets []*TargetConfig) (*IDCheck, error) {
	c := &IDCheck{}
	shared := false
	for _, t := range targets {
		v, err := s.TargetView(t)
		if err != nil {
			return nil, err
		}
		if v != nil {
			c.views = append(c.views, idView{target: t.ID, view: v, seen: map[string]int{}})
		} else if !shared {
			shared = true
			c.views = append(c.views, idView{seen: map[string]int{}})
		}
	}
	if len(c.views) == 0 {
		c.views = append(c.views, idView{seen: map[string]int{}})
	}
	return c, nil
}

// Add records a sample and returns the views in which its id was seen before.
func (c *IDCheck) Add(smp Sample) []Repeat {
	var out []Repeat
	for i := range c.views {
		v := &c.views[i]
		if !v.view.Sees(smp) {
			continue
		}
		if first, ok := v.seen[smp.ID]; ok {
			out = append(out, Repeat{Target: v.target, FirstLine: first})
			continue
		}
		v.seen[smp.ID] = smp.Line
	}
	return out
}

// Where says which rows a repeat is among, for messages.
func (r Repeat) Where() string {
	if r.Target == "" {
		return ""
	}
	return fmt.Sprintf(" (among the rows target %s sees)", r.Target)
}

// filterText describes the conditions for the "no samples" message.
func filterText(conds []Condition) string {
	var parts []string
	for _, c := range conds {
		switch {
		case c.Equals != nil:
			parts = append(parts, fmt.Sprintf("%s = %q", c.Column, *c.Equals))
		case len(c.In) > 0:
			parts = append(parts, fmt.Sprintf("%s in %q", c.Column, c.In))
		default:
			parts = append(parts, fmt.Sprintf("%s ~ /%s/", c.Column, c.Regex))
		}
	}
	return strings.Join(parts, " and ")
}
