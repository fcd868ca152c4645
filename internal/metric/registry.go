package metric

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/evalgate/evalgate/internal/spelling"
)

// builtins maps a metric type to its constructor. Filled by the files that
// define each metric, through register.
var builtins = map[string]func(Spec) (Metric, error){}

// optionKeys maps a metric type to the option keys it accepts, so that a
// misspelt option is an error instead of a silently ignored setting.
var optionKeys = map[string][]string{}

// register adds a built-in metric type. It panics on a duplicate because that
// is a programming error caught by any test run.
func register(typ string, keys []string, ctor func(Spec) (Metric, error)) {
	if _, dup := builtins[typ]; dup {
		panic("metric: duplicate registration of " + typ)
	}
	builtins[typ] = ctor
	k := append([]string(nil), keys...)
	sort.Strings(k)
	optionKeys[typ] = k
}

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

// OptionKeys returns the option keys the built-in metric type typ accepts,
// sorted; nil for an unknown type. The suite loader and the JSON Schema use it.
func OptionKeys(typ string) []string {
	k, ok := optionKeys[typ]
	if !ok {
		return nil
	}
	return append([]string(nil), k...)
}

// New builds the metric a suite declares. The type is spec.Type, or spec.Name
// when Type is empty. Unknown types and unknown, missing or malformed options
// are errors that name the metric and say what to change.
func New(spec Spec) (Metric, error) {
	typ := spec.Kind()
	if typ == "" {
		return nil, fmt.Errorf("metric: no name or type given")
	}
	if spec.Name == "" {
		spec.Name = typ
	}
	spec.Type = typ
	ctor, ok := builtins[typ]
	if !ok {
		msg := fmt.Sprintf("metric %q: unknown type %q", spec.Name, typ)
		if s := spelling.Closest(typ, Types()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, fmt.Errorf("%s; known types: %s", msg, strings.Join(Types(), ", "))
	}
	allowed := optionKeys[typ]
	for _, k := range slices.Sorted(maps.Keys(spec.Options)) {
		if slices.Contains(allowed, k) {
			continue
		}
		if len(allowed) == 0 {
			return nil, spec.errorf("takes no options, got %q", k)
		}
		msg := fmt.Sprintf("unknown option %q", k)
		if s := spelling.Closest(k, allowed); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, spec.errorf("%s; allowed: %s", msg, strings.Join(allowed, ", "))
	}
	return ctor(spec)
}
