package suite

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder walks a yaml.Node tree into Config by reflection over the yaml tags,
// so that unknown keys, wrong types and duplicates are reported with their
// position, all of them, not just the first. It remembers where every path
// was written so the checks after decoding can point at the right line too.
type decoder struct {
	file string
	errs ConfigErrors
	// vals and keys map a path ("targets[0].params.top_k") to the node of its
	// value and of its key.
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
	// bad holds the paths whose value could not be decoded: already reported,
	// so later checks leave them alone.
	bad map[string]bool
	// budget is how many more nodes decoding may visit, aliases and merge
	// keys expanded; see expansionBudget.
	budget int
	// overspent is set once the budget is spent: decoding stops.
	overspent bool
}

// expansionBudget bounds the nodes decoding visits once aliases and merge
// keys (<<) are expanded, for a document of n nodes. Each alias is a
// pointer, so nested lists of aliases ("billion laughs") or of merges
// (<<: [*a, *a, ...], which the YAML library's own alias limit does not see
// because evalgate expands merges itself) grow exponentially: 600 bytes took
// over 10 minutes. A real config expands each anchor a few times; the budget
// leaves a hundred times the document, and never less than 10,000.
func expansionBudget(n int) int { return max(10_000, 100*n) }

func newDecoder(file string, doc *yaml.Node) *decoder {
	return &decoder{file: file, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}, bad: map[string]bool{},
		budget: expansionBudget(countNodes(doc))}
}

// countNodes counts the nodes of a document as written (aliases not followed).
func countNodes(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

// spend takes n visits from the budget; it reports false, once, with an
// error at node at, when the budget is spent, and from then on.
func (d *decoder) spend(at *yaml.Node, n int) bool {
	if d.overspent {
		return false
	}
	d.budget -= n
	if d.budget >= 0 {
		return true
	}
	d.overspent = true
	d.errorf(at, "aliases and merge keys (<<) expand this file to too many values (more than a hundred times its size); nest fewer aliases, or write the repeated parts out")
	return false
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	e := &ConfigError{File: d.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// written reports whether path was written (with a non-null value).
func (d *decoder) written(path string) bool {
	n, ok := d.vals[path]
	return ok && !isNull(n)
}

// has reports whether path was written with a value that could be decoded.
func (d *decoder) has(path string) bool { return d.written(path) && !d.bad[path] }

// typeError reports a value of the wrong type at path.
func (d *decoder) typeError(n *yaml.Node, path, format string, args ...any) {
	d.bad[path] = true
	d.errorf(n, format, args...)
}

// at returns the node to blame for path: its value, else its key, else the
// nearest written parent (for a missing key, the mapping that lacks it).
func (d *decoder) at(path string) *yaml.Node {
	for {
		if n, ok := d.vals[path]; ok {
			return n
		}
		if n, ok := d.keys[path]; ok {
			return n
		}
		if path == "" {
			return nil
		}
		path = parentPath(path)
	}
}

// keyAt returns the key node of path when there is one (an unknown or
// misplaced key is best shown at the key), else what at returns.
func (d *decoder) keyAt(path string) *yaml.Node {
	if n, ok := d.keys[path]; ok {
		return n
	}
	return d.at(path)
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

// where names path for a message; the top level is "the top level".
func where(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// describe says what a node is, for "expected X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "'" + n.Value + "'"
}

var (
	durationType = reflect.TypeFor[Duration]()
	marginType   = reflect.TypeFor[Margin]()
	promptType   = reflect.TypeFor[Prompt]()
	metricType   = reflect.TypeFor[MetricConfig]()
	anyType      = reflect.TypeFor[any]()
)

// decode stores n into v, which must be settable.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if !d.spend(n, 1) {
		return
	}
	n = resolve(n)
	d.vals[path] = n
	if isNull(n) {
		return
	}
	switch v.Type() {
	case durationType:
		d.decodeDuration(n, v, path)
		return
	case marginType:
		d.decodeMargin(n, v, path)
		return
	case promptType:
		if n.Kind == yaml.ScalarNode {
			// Shorthand: a prompt written as a string is the file of its user part.
			v.Set(reflect.ValueOf(Prompt{UserFile: n.Value}))
			d.vals[joinPath(path, "user_file")] = n
			return
		}
	case metricType:
		d.decodeMetric(n, v, path)
		return
	case anyType:
		var x any
		if err := n.Decode(&x); err != nil {
			d.typeError(n, path, "%s: %v", path, err)
			return
		}
		if !finiteAll(x) {
			d.typeError(n, path, notFinite, path, describe(n))
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
		return
	}

	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path)
		if !d.bad[path] {
			v.Set(p)
		}
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.typeError(n, path, "%s: expected a list, got %s", path, describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), indexPath(path, i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, kv := range d.pairs(n, path) {
			e := reflect.New(v.Type().Elem()).Elem()
			p := joinPath(path, kv.key.Value)
			d.keys[p] = kv.key
			d.decode(kv.val, e, p)
			m.SetMapIndex(reflect.ValueOf(kv.key.Value), e)
		}
		v.Set(m)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.typeError(n, path, "%s: expected a string, got %s", path, describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || err != nil {
			d.typeError(n, path, "%s: expected true or false, got %s", path, describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.typeError(n, path, "%s: expected a whole number, got %s", path, describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		var f float64
		tag := n.ShortTag()
		if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || n.Decode(&f) != nil {
			d.typeError(n, path, "%s: expected a number, got %s", path, describe(n))
			return
		}
		if !finite(f) {
			d.typeError(n, path, notFinite, path, describe(n))
			return
		}
		v.SetFloat(f)
	default:
		// Only reachable when Config grows a field of a new kind.
		d.typeError(n, path, "%s: cannot decode into %s", path, v.Type())
	}
}

// notFinite is the message for .nan and .inf (path, value): YAML reads them
// as numbers, but a NaN bound compares false with everything and would
// silently pass whatever it bounds.
const notFinite = "%s: expected a finite number, got %s"

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// finiteAll reports whether every number in a decoded YAML value is finite.
func finiteAll(x any) bool {
	switch x := x.(type) {
	case float64:
		return finite(x)
	case []any:
		for _, e := range x {
			if !finiteAll(e) {
				return false
			}
		}
	case map[string]any:
		for _, e := range x {
			if !finiteAll(e) {
				return false
			}
		}
	case map[any]any:
		for k, e := range x {
			if !finiteAll(k) || !finiteAll(e) {
				return false
			}
		}
	}
	return true
}

type keyValue struct{ key, val *yaml.Node }

// pairs lists a mapping's entries, expanding YAML merge keys (<<: *anchor)
// first so that explicit keys override merged ones. A key written twice is an
// error.
func (d *decoder) pairs(n *yaml.Node, path string) []keyValue {
	if n.Kind != yaml.MappingNode {
		d.bad[path] = true
		d.errorf(n, "%s: expected a mapping, got %s", where(path), describe(n))
		return nil
	}
	if !d.spend(n, len(n.Content)/2) {
		return nil
	}
	var merged, own []keyValue
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			val = resolve(val)
			srcs := []*yaml.Node{val}
			if val.Kind == yaml.SequenceNode {
				srcs = val.Content
			}
			for _, s := range srcs {
				if !d.spend(s, 1) {
					return nil
				}
				merged = append(merged, d.pairs(resolve(s), path)...)
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: keys must be plain names", where(path))
			continue
		}
		own = append(own, keyValue{k, val})
	}
	seen := map[string]*yaml.Node{}
	out := make([]keyValue, 0, len(merged)+len(own))
	for _, kv := range own {
		if first, dup := seen[kv.key.Value]; dup {
			d.errorf(kv.key, "duplicate key '%s' in %s (first at line %d)", kv.key.Value, where(path), first.Line)
			continue
		}
		seen[kv.key.Value] = kv.key
	}
	for _, kv := range merged {
		if seen[kv.key.Value] == nil {
			seen[kv.key.Value] = kv.key
			out = append(out, kv)
		}
	}
	seen = map[string]*yaml.Node{}
	for _, kv := range own {
		if seen[kv.key.Value] == nil {
			seen[kv.key.Value] = kv.key
			out = append(out, kv)
		}
	}
	return out
}

// yamlKeys lists a struct type's YAML keys and their field indexes.
func yamlKeys(t reflect.Type) (names []string, index map[string]int) {
	index = map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		names = append(names, name)
		index[name] = i
	}
	return names, index
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	names, index := yamlKeys(v.Type())
	for _, kv := range d.pairs(n, path) {
		key := kv.key.Value
		p := joinPath(path, key)
		i, ok := index[key]
		if !ok {
			d.errorf(kv.key, "unknown key '%s' in %s%s", key, where(path), didYouMean(key, names))
			continue
		}
		d.keys[p] = kv.key
		d.decode(kv.val, v.Field(i), p)
	}
}

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, path string) {
	dur, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		d.typeError(n, path, "%s: expected a duration like \"30s\" or \"5m\", got %s", path, describe(n))
		return
	}
	if dur <= 0 {
		d.typeError(n, path, "%s: a duration must be positive, got %s", path, describe(n))
		return
	}
	v.Set(reflect.ValueOf(Duration(dur)))
}

func (d *decoder) decodeMargin(n *yaml.Node, v reflect.Value, path string) {
	bad := func() {
		d.typeError(n, path, "%s: expected a number (absolute, 0.05) or a percentage (relative, \"5%%\"), got %s", path, describe(n))
	}
	if n.Kind != yaml.ScalarNode {
		bad()
		return
	}
	m := Margin{}
	s := strings.TrimSpace(n.Value)
	if pct, ok := strings.CutSuffix(s, "%"); ok && n.ShortTag() == "!!str" {
		f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil {
			bad()
			return
		}
		m = Margin{Value: f / 100, Relative: true}
	} else {
		tag := n.ShortTag()
		if (tag != "!!int" && tag != "!!float") || n.Decode(&m.Value) != nil {
			bad()
			return
		}
	}
	if !finite(m.Value) {
		d.typeError(n, path, notFinite, path, describe(n))
		return
	}
	if m.Value < 0 {
		d.typeError(n, path, "%s: a margin cannot be negative, got %s", path, describe(n))
		return
	}
	v.Set(reflect.ValueOf(m))
}

// decodeMetric reads a metric: a plain name, or a mapping of name, type and
// the type's options inline.
func (d *decoder) decodeMetric(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode {
		v.Set(reflect.ValueOf(MetricConfig{Name: n.Value}))
		d.vals[joinPath(path, "name")] = n
		return
	}
	mc := MetricConfig{}
	for _, kv := range d.pairs(n, path) {
		key := kv.key.Value
		p := joinPath(path, key)
		d.keys[p] = kv.key
		switch key {
		case "name":
			d.decode(kv.val, reflect.ValueOf(&mc.Name).Elem(), p)
		case "type":
			d.decode(kv.val, reflect.ValueOf(&mc.Type).Elem(), p)
		default:
			var x any
			val := resolve(kv.val)
			d.vals[p] = val
			if err := val.Decode(&x); err != nil {
				d.errorf(val, "%s: %v", p, err)
				continue
			}
			if !finiteAll(x) {
				d.errorf(val, notFinite, p, describe(val))
				continue
			}
			if mc.Options == nil {
				mc.Options = map[string]any{}
			}
			mc.Options[key] = x
		}
	}
	v.Set(reflect.ValueOf(mc))
}
