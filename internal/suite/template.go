package suite

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Template is a prompt with {{field}} placeholders in a system and a user
// part. A placeholder names a dataset field (column); spaces inside the braces
// are allowed ({{ question }}). A literal "{{" is written "{{{{"; "}}" needs no
// escape. Rendering a placeholder whose field the sample lacks is an error,
// never an empty string.
type Template struct {
	// Name is the prompt's key in evalgate.yaml's prompts.
	Name string

	systemText, userText string
	system, user         []segment
	fields               []string
}

// segment is literal text or, when field is set, a placeholder.
type segment struct {
	text  string
	field string
}

// TemplateSyntaxError is a malformed placeholder; Line and Column are 1-based
// within the part's text.
type TemplateSyntaxError struct {
	Template string
	Part     string // "system" or "user"
	Line     int
	Column   int
	Msg      string
}

// Error names the prompt, the part and the position.
func (e *TemplateSyntaxError) Error() string {
	return fmt.Sprintf("prompt %s (%s part) line %d column %d: %s", e.Template, e.Part, e.Line, e.Column, e.Msg)
}

// MissingFieldError is returned by Render when a placeholder names a field the
// sample does not have. The engine wraps it with the sample's line.
type MissingFieldError struct {
	Template string
	Field    string
}

// Error names the prompt and the field, and says what to change.
func (e *MissingFieldError) Error() string {
	return fmt.Sprintf("prompt %s: placeholder {{%s}} has no field '%s' in the sample; add the column to the dataset or change the placeholder", e.Template, e.Field, e.Field)
}

// NewTemplate parses the system and user parts of a prompt. Either part may
// be empty.
func NewTemplate(name, system, user string) (*Template, error) {
	t := &Template{Name: name, systemText: system, userText: user}
	var err error
	if t.system, err = parseTemplate(name, "system", system); err != nil {
		return nil, err
	}
	if t.user, err = parseTemplate(name, "user", user); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, segs := range [][]segment{t.system, t.user} {
		for _, s := range segs {
			if s.field != "" && !seen[s.field] {
				seen[s.field] = true
				t.fields = append(t.fields, s.field)
			}
		}
	}
	return t, nil
}

// Fields lists the fields the template's placeholders name, in order of first
// appearance (system part first), each once.
func (t *Template) Fields() []string { return append([]string(nil), t.fields...) }

// Text returns the template's system and user parts as written.
func (t *Template) Text() (system, user string) { return t.systemText, t.userText }

// Hash identifies the template's text: it changes when either part changes.
func (t *Template) Hash() string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s%d:%s", len(t.systemText), t.systemText, len(t.userText), t.userText)
	return hex.EncodeToString(h.Sum(nil))
}

// SharedPrefix is the length in bytes of the rendered text every sample
// shares: the system part up to its first placeholder and, when the system
// part has none, the user part up to its first placeholder. It is what
// prompt caching can reuse from call to call (targets[].cache_prompt).
func (t *Template) SharedPrefix() (system, user int) {
	system, static := literalPrefix(t.system)
	if !static {
		return system, 0
	}
	user, _ = literalPrefix(t.user)
	return system, user
}

// literalPrefix is the length of the literal text before the first
// placeholder of segs, and whether segs has no placeholder at all.
func literalPrefix(segs []segment) (n int, static bool) {
	for _, s := range segs {
		if s.field != "" {
			return n, false
		}
		n += len(s.text)
	}
	return n, true
}

// Render fills the placeholders from fields. A placeholder without a field is
// a *MissingFieldError.
func (t *Template) Render(fields map[string]string) (system, user string, err error) {
	if system, err = t.render(t.system, fields); err != nil {
		return "", "", err
	}
	if user, err = t.render(t.user, fields); err != nil {
		return "", "", err
	}
	return system, user, nil
}

func (t *Template) render(segs []segment, fields map[string]string) (string, error) {
	var b strings.Builder
	for _, s := range segs {
		if s.field == "" {
			b.WriteString(s.text)
			continue
		}
		v, ok := fields[s.field]
		if !ok {
			return "", &MissingFieldError{Template: t.Name, Field: s.field}
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// parseTemplate splits text into literal and placeholder segments.
func parseTemplate(name, part, text string) ([]segment, error) {
	var segs []segment
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			segs = append(segs, segment{text: lit.String()})
			lit.Reset()
		}
	}
	fail := func(at int, format string, args ...any) error {
		line := 1 + strings.Count(text[:at], "\n")
		col := at - strings.LastIndex(text[:at], "\n")
		return &TemplateSyntaxError{Template: name, Part: part, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	i := 0
	for i < len(text) {
		j := strings.Index(text[i:], "{{")
		if j < 0 {
			lit.WriteString(text[i:])
			break
		}
		k := i + j
		lit.WriteString(text[i:k])
		if strings.HasPrefix(text[k:], "{{{{") {
			lit.WriteString("{{")
			i = k + 4
			continue
		}
		end := strings.Index(text[k+2:], "}}")
		if end < 0 {
			return nil, fail(k, "placeholder '{{' is not closed with '}}'; write {{{{ for a literal {{")
		}
		inner := text[k+2 : k+2+end]
		field := strings.TrimSpace(inner)
		if !isFieldName(field) {
			return nil, fail(k, "placeholder {{%s}} is not a field name (letters, digits, '_', '-', '.', starting with a letter or '_'); write {{{{ for a literal {{", inner)
		}
		flush()
		segs = append(segs, segment{field: field})
		i = k + 2 + end + 2
	}
	flush()
	return segs, nil
}

// isFieldName reports whether s is a plausible dataset column name for a
// placeholder. Anything else between braces is most likely a typo or literal
// text (JSON, another template language) that should be escaped.
func isFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}
