package suite

import (
	"fmt"
	"maps"
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

// singleBrace matches a "{{" (evalgate's own placeholder or escape, skipped)
// or a single-brace "{NAME}" as str.format writes it.
var singleBrace = regexp.MustCompile(`\{\{|\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// PlaceholderResolver maps a placeholder name as written in a prompt from
// another tool to the dataset column that fills it.
type PlaceholderResolver struct {
	// Explicit maps a name as written to a column (optimize.source.placeholders).
	Explicit map[string]string
	// Columns are the dataset's columns.
	Columns []string
}

// Resolve returns the column for name: the explicit mapping, else the column
// of that name, else the one column equal to it ignoring case.
func (r PlaceholderResolver) Resolve(name string) (string, bool) {
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

// UnknownPlaceholderError lists placeholders of a prompt that no dataset
// column fills.
type UnknownPlaceholderError struct {
	// Written are the placeholders as written ("{TRANSCRIPT}"), Names their
	// bare names ("TRANSCRIPT").
	Written []string
	Names   []string
	Columns []string
	// Where is the config key that maps names to columns, for the message.
	Where string
}

// Error names the placeholders and says how to map them.
func (e *UnknownPlaceholderError) Error() string {
	if e.Where == "" {
		return fmt.Sprintf("placeholders %s have no dataset column (columns: %s); rename them to a column's name",
			strings.Join(e.Written, ", "), strings.Join(e.Columns, ", "))
	}
	return fmt.Sprintf("placeholders %s have no dataset column (columns: %s); map each in %s, e.g. {%s: %s}",
		strings.Join(e.Written, ", "), strings.Join(e.Columns, ", "), e.Where, e.Names[0], firstOr(e.Columns, "question"))
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
func ConvertPlaceholders(text string, r PlaceholderResolver) (string, []string, error) {
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

// SingleBrace is a "{NAME}" in a prompt: another tool's placeholder, sent to
// the model as the literal text unless converted.
type SingleBrace struct {
	Written, Name string
	// Line and Column are 1-based within the part's text.
	Line, Column int
}

// SingleBraces finds the single-brace placeholders of text. "{{...}}" is
// evalgate's own and is skipped, and so is a "{" followed by anything but a
// name and "}" (JSON examples such as {"score": 1}).
func SingleBraces(text string) []SingleBrace {
	var out []SingleBrace
	for _, loc := range singleBrace.FindAllStringSubmatchIndex(text, -1) {
		if loc[2] < 0 {
			continue // "{{"
		}
		before := text[:loc[0]]
		out = append(out, SingleBrace{Written: text[loc[0]:loc[1]], Name: text[loc[2]:loc[3]],
			Line: 1 + strings.Count(before, "\n"), Column: 1 + loc[0] - (strings.LastIndexByte(before, '\n') + 1)})
	}
	return out
}

// PlaceholdersConvert is the value of prompts.<name>.placeholders that
// converts another tool's placeholders when the suite loads.
const PlaceholdersConvert = "convert"

// convertPlaceholders rewrites a prompt's system and user parts for
// placeholders: convert, resolving names against the dataset's columns (those
// of its first sample). It reports what it cannot convert at the prompt.
func (c *checker) convertPlaceholders(path, system, user, mode string) (string, string, bool) {
	if mode != PlaceholdersConvert {
		c.errorf(c.at(path+".placeholders"), "%s.placeholders must be '%s' (or left out to keep the text as written), got '%s'", path, PlaceholdersConvert, mode)
		return "", "", false
	}
	cols, err := c.firstColumns()
	if err != nil {
		// The dataset's own error is reported where it is read; without its
		// columns nothing can be resolved.
		c.errorf(c.at(path+".placeholders"), "%s.placeholders: cannot read the dataset's columns to convert placeholders: %v", path, err)
		return "", "", false
	}
	r := PlaceholderResolver{Columns: cols}
	out := [2]string{}
	for i, part := range []struct{ name, text string }{{"system", system}, {"user", user}} {
		conv, _, err := ConvertPlaceholders(part.text, r)
		if err != nil {
			c.errorf(c.at(path+".placeholders"), "%s (%s part): %v", path, part.name, err)
			return "", "", false
		}
		out[i] = conv
	}
	return out[0], out[1], true
}

// firstColumns are the columns of the dataset's first sample, sorted; read
// once for all prompts.
func (c *checker) firstColumns() ([]string, error) {
	if c.columns != nil || c.columnsErr != nil {
		return c.columns, c.columnsErr
	}
	if c.s.DatasetPath == "" || c.refused["dataset.path"] {
		c.columnsErr = fmt.Errorf("no readable dataset.path")
		return nil, c.columnsErr
	}
	ds, err := OpenDataset(c.s)
	if err != nil {
		c.columnsErr = err
		return nil, err
	}
	defer ds.Close()
	smp, err := ds.Next()
	if err != nil {
		c.columnsErr = err
		return nil, err
	}
	c.columns = slices.Sorted(maps.Keys(smp.Fields))
	return c.columns, nil
}

// singleBraceFindings reports the single-brace placeholders left in the
// suite's prompts, with their line: an error when the name is a dataset
// column (surely a placeholder, sent as the literal text), a warning
// otherwise (perhaps literal braces).
func singleBraceFindings(s *Suite, columns []string) []Finding {
	var out []Finding
	r := PlaceholderResolver{Columns: columns}
	for _, name := range slices.Sorted(maps.Keys(s.Templates)) {
		p := s.Config.Prompts[name]
		system, user := s.Templates[name].Text()
		for _, part := range []struct{ name, text, file string }{{"system", system, p.SystemFile}, {"user", user, p.UserFile}} {
			for _, b := range SingleBraces(part.text) {
				where := fmt.Sprintf("prompt %s (%s part) line %d column %d", name, part.name, b.Line, b.Column)
				if part.file != "" {
					where = fmt.Sprintf("%s line %d column %d (prompt %s, %s part)", part.file, b.Line, b.Column, name, part.name)
				}
				f := Finding{Severity: SevWarning, Code: "single_brace_placeholder",
					Message: fmt.Sprintf("%s: %s is sent to the model as it is (evalgate's placeholders are {{name}}); write {{%s}}, or set prompts.%s.placeholders: convert", where, b.Written, b.Name, name)}
				if col, ok := r.Resolve(b.Name); ok {
					f.Severity, f.Column = SevError, col
					f.Message = fmt.Sprintf("%s: %s looks like a placeholder for column %s but is sent to the model as it is; write {{%s}}, or set prompts.%s.placeholders: convert", where, b.Written, col, col, name)
				}
				out = append(out, f)
			}
		}
	}
	return out
}
