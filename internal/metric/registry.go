package metric

import "sort"

// builtins maps a metric type to its constructor. Filled by the files that
// define each metric.
var builtins = map[string]func(Spec) (Metric, error){}

// Types lists the built-in metric types, sorted.
func Types() []string {
	out := make([]string, 0, len(builtins))
	for k := range builtins {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Known reports whether typ is a built-in metric type.
func Known(typ string) bool { _, ok := builtins[typ]; return ok }
