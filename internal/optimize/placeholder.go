package optimize

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// foreignPlaceholder matches the placeholder syntaxes of other tools, in the
// order they are tried at one position: Jinja/Mustache "{{ var }}", Python's
// str.format "{var}" (AWS's migration prompts write "{TRANSCRIPT}"), and
// shell/Template "${var}" or "$var". A "{{{{" is evalgate's escaped literal and
// is kept as it is.
var foreignPlaceholder = regexp.MustCompile(`\{\{\{\{|\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// Resolver maps a placeholder name as written in a source prompt to the
// dataset column that fills it.
type Resolver struct {
	// Explicit is optimize.source.placeholders: name as written -> column.
	Explicit map[string]string
	// Columns are the dataset's columns (present in every sample).
	Columns []string
}

// Resolve returns the column for name: the explicit mapping, else the column
// of that name, else the one column equal to it ignoring case.
func (r Resolver) Resolve(name string) (string, bool) {
	if c, ok := r.Explicit[name]; ok {
		return c, true
	}
	if slices.Contains(r.Columns, name) {
		return name, true
	}
	var found []string
	for _, c := range r.Columns {
		if strings.EqualFold(c, name) {
			found = append(found, c)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return "", false
}

// UnknownPlaceholderError lists placeholders of a source prompt that no
// dataset column fills.
type UnknownPlaceholderError struct {
	// Written are the placeholders as written ("{TRANSCRIPT}"), Names their
	// bare names ("TRANSCRIPT").
	Written []string
	Names   []string
	Columns []string
}

// Error names the placeholders and says how to map them.
func (e *UnknownPlaceholderError) Error() string {
	return fmt.Sprintf("placeholders %s have no dataset column (columns: %s); map each in optimize.source.placeholders, e.g. {%s: %s}",
		strings.Join(e.Written, ", "), strings.Join(e.Columns, ", "), e.Names[0], firstOr(e.Columns, "question"))
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

// ConvertPlaceholders rewrites every foreign placeholder in text to
// evalgate's {{column}}, and lists the columns used in order of appearance.
// A placeholder no column fills is an *UnknownPlaceholderError: sending the
// model a literal "{TRANSCRIPT}" would evaluate a broken prompt.
func ConvertPlaceholders(text string, r Resolver) (string, []string, error) {
	var written, unknown, used []string
	out := foreignPlaceholder.ReplaceAllStringFunc(text, func(m string) string {
		if m == "{{{{" {
			return m
		}
		sub := foreignPlaceholder.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3] + sub[4]
		col, ok := r.Resolve(name)
		if !ok {
			if !slices.Contains(unknown, name) {
				written, unknown = append(written, m), append(unknown, name)
			}
			return m
		}
		if !slices.Contains(used, col) {
			used = append(used, col)
		}
		return "{{" + col + "}}"
	})
	if len(unknown) > 0 {
		return "", nil, &UnknownPlaceholderError{Written: written, Names: unknown, Columns: r.Columns}
	}
	return out, used, nil
}
