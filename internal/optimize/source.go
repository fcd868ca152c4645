package optimize

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Source is the prompt being migrated: as written, and in evalgate's syntax.
type Source struct {
	// Origin says where it came from, for messages and the report.
	Origin string `json:"origin"`
	// RawSystem and RawUser are the text as written (any placeholder syntax).
	RawSystem string `json:"raw_system,omitempty"`
	RawUser   string `json:"raw_user"`
	// System and User use {{column}} placeholders; Fields lists the columns.
	System string   `json:"system,omitempty"`
	User   string   `json:"user"`
	Fields []string `json:"fields"`
	// Foreign is true when placeholders had to be converted.
	Foreign bool `json:"foreign"`
}

// ErrNoPlaceholders is wrapped when a source prompt names no data: every
// sample would get the same prompt, so there is nothing to optimize against.
var ErrNoPlaceholders = errors.New("the source prompt has no placeholders")

// NewSource reads a source prompt in evalgate's syntax or another tool's
// ({TRANSCRIPT}, {transcript}, $var, ${var}, {{ var }}) and converts its
// placeholders to dataset columns with r.
func NewSource(origin, system, user string, r Resolver) (*Source, error) {
	s := &Source{Origin: origin, RawSystem: system, RawUser: user}
	var err error
	var sysFields, userFields []string
	if s.System, sysFields, err = ConvertPlaceholders(system, r); err != nil {
		return nil, fmt.Errorf("source prompt %s (system part): %w", origin, err)
	}
	if s.User, userFields, err = ConvertPlaceholders(user, r); err != nil {
		return nil, fmt.Errorf("source prompt %s: %w", origin, err)
	}
	if strings.TrimSpace(user) == "" {
		return nil, fmt.Errorf("source prompt %s: the user part is empty", origin)
	}
	for _, f := range append(sysFields, userFields...) {
		if !slices.Contains(s.Fields, f) {
			s.Fields = append(s.Fields, f)
		}
	}
	if len(s.Fields) == 0 {
		return nil, fmt.Errorf("source prompt %s: %w ({{question}}, {TRANSCRIPT}, $doc); write where each sample's data goes, or map the names with optimize.source.placeholders", origin, ErrNoPlaceholders)
	}
	s.Foreign = s.System != system || s.User != user
	return s, nil
}

// CSVColumns are the columns of a prompts CSV by role; empty ones default
// to the role's name.
type CSVColumns struct {
	UseCase, Family, Prompt, System string
}

// utf8BOM is what Excel and many exporters put at the start of a UTF-8 CSV.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ReadPromptsCSV reads the prompt of one use case and model family from a
// prompts CSV: a header row, then a row per use case and model family, as
// in AWS's model-migration samples. A UTF-8 BOM is skipped. An empty
// useCase or family matches any row, but the match must be unique.
func ReadPromptsCSV(path string, cols CSVColumns, useCase, family string) (system, user, origin string, err error) {
	cols.UseCase = or(cols.UseCase, "use_case")
	cols.Family = or(cols.Family, "family")
	cols.Prompt = or(cols.Prompt, "prompt")
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", "", "", fmt.Errorf("prompts csv: %w", err)
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, utf8BOM)))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return "", "", "", fmt.Errorf("prompts csv %s: header: %w", path, err)
	}
	index := map[string]int{}
	for i, h := range header {
		index[strings.TrimSpace(h)] = i
	}
	need := []struct{ role, col string }{{"prompt", cols.Prompt}}
	if useCase != "" {
		need = append(need, struct{ role, col string }{"use_case", cols.UseCase})
	}
	if family != "" {
		need = append(need, struct{ role, col string }{"family", cols.Family})
	}
	if cols.System != "" {
		need = append(need, struct{ role, col string }{"system", cols.System})
	}
	for _, n := range need {
		if _, ok := index[n.col]; !ok {
			return "", "", "", fmt.Errorf("prompts csv %s: no column %q (the %s role; columns: %s); map it with optimize.source.fields.%s", path, n.col, n.role, strings.Join(header, ", "), n.role)
		}
	}
	cell := func(row []string, col string) string {
		if i, ok := index[col]; ok && i < len(row) {
			return row[i]
		}
		return ""
	}
	var matches []int
	var found []string
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", "", "", fmt.Errorf("prompts csv %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if (useCase == "" || strings.EqualFold(strings.TrimSpace(cell(row, cols.UseCase)), useCase)) &&
			(family == "" || strings.EqualFold(strings.TrimSpace(cell(row, cols.Family)), family)) {
			matches = append(matches, line)
			system, user = cell(row, cols.System), cell(row, cols.Prompt)
		}
		found = append(found, fmt.Sprintf("%s/%s", cell(row, cols.UseCase), cell(row, cols.Family)))
	}
	switch len(matches) {
	case 0:
		return "", "", "", fmt.Errorf("prompts csv %s: no row with use_case %q and family %q (rows: %s); set optimize.source.use_case and family", path, useCase, family, strings.Join(found, ", "))
	case 1:
	default:
		return "", "", "", fmt.Errorf("prompts csv %s: %d rows match use_case %q and family %q (lines %v); set both to pick one", path, len(matches), useCase, family, matches)
	}
	return system, user, fmt.Sprintf("%s line %d", path, matches[0]), nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// NativeSource is a source prompt that is already an evalgate template (a
// prompt of the suite): nothing to convert.
func NativeSource(origin, system, user string, fields []string) (*Source, error) {
	if len(fields) == 0 {
		return nil, fmt.Errorf("source prompt %s: %w ({{question}}); write where each sample's data goes", origin, ErrNoPlaceholders)
	}
	return &Source{Origin: origin, RawSystem: system, RawUser: user, System: system, User: user, Fields: fields}, nil
}
