// Package ghaction is the GitHub Actions runtime evalgate runs in: inputs,
// outputs, the step summary, environment files, workflow commands
// (annotations, log groups, masks) and the event that triggered the run.
//
// It follows the design of github.com/sethvargo/go-githubactions, which this
// build cannot fetch: no dependencies, and the environment is injected
// (WithGetenv) so that every test runs in parallel with its own.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands
package ghaction

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
)

// GetenvFunc reads one environment variable, like os.Getenv.
type GetenvFunc func(key string) string

// Action is the runtime of one action step. Its methods are safe for
// concurrent use.
type Action struct {
	getenv GetenvFunc
	mu     sync.Mutex
	w      io.Writer
}

// Option configures an Action.
type Option func(*Action)

// WithGetenv sets how the Action reads its environment (default: os.Getenv).
// Tests pass a map's lookup so they can run in parallel.
func WithGetenv(f GetenvFunc) Option { return func(a *Action) { a.getenv = f } }

// WithWriter sets where workflow commands are written (default: os.Stdout,
// which is what the runner reads them from).
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands
func WithWriter(w io.Writer) Option { return func(a *Action) { a.w = w } }

// New returns an Action reading the process environment and writing
// workflow commands to standard output, unless options say otherwise.
func New(opts ...Option) *Action {
	a := &Action{getenv: os.Getenv, w: os.Stdout}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Getenv reads an environment variable through the injected GetenvFunc.
func (a *Action) Getenv(key string) string { return a.getenv(key) }

// InputEnv is the environment variable the runner sets for an input: INPUT_
// and the name upper-cased with spaces replaced by underscores (dashes are
// kept, as the runner keeps them).
//
// https://docs.github.com/actions/reference/workflows-and-actions/metadata-syntax#inputs
func InputEnv(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// GetInput returns the input's value with surrounding whitespace trimmed, or
// "" when it is not set.
//
// https://docs.github.com/actions/reference/workflows-and-actions/metadata-syntax#inputs
func (a *Action) GetInput(name string) string {
	return strings.TrimSpace(a.getenv(InputEnv(name)))
}

// ErrNoFile is returned when the runner did not name the environment file a
// method writes to (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV): the
// program is not running in a GitHub Actions step.
var ErrNoFile = errors.New("not running in a GitHub Actions step")

// SetOutput sets the step output name to value by appending to the
// GITHUB_OUTPUT file (multi-line values use a heredoc delimiter).
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#setting-an-output-parameter
func (a *Action) SetOutput(name, value string) error {
	return a.appendKV("GITHUB_OUTPUT", name, value)
}

// SetEnv exports an environment variable to the job's later steps by
// appending to the GITHUB_ENV file.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#setting-an-environment-variable
func (a *Action) SetEnv(name, value string) error {
	return a.appendKV("GITHUB_ENV", name, value)
}

// AddStepSummary appends Markdown to the job summary (the GITHUB_STEP_SUMMARY
// file), followed by a newline.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#adding-a-job-summary
func (a *Action) AddStepSummary(markdown string) error {
	return a.appendFile("GITHUB_STEP_SUMMARY", markdown+"\n")
}

// appendKV writes name<<DELIM\nvalue\nDELIM\n, the format the runner reads
// from GITHUB_OUTPUT and GITHUB_ENV for any value, one line or many. The
// delimiter is random so that no value can end it early and inject a key.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#multiline-strings
func (a *Action) appendKV(envVar, name, value string) error {
	if name == "" || strings.ContainsAny(name, "\r\n=") {
		return fmt.Errorf("%s: invalid name %q: want a name without '=' or line breaks", envVar, name)
	}
	delim, err := delimiter()
	if err != nil {
		return err
	}
	if strings.Contains(name, delim) || strings.Contains(value, delim) {
		return fmt.Errorf("%s %s: the value contains the delimiter", envVar, name)
	}
	return a.appendFile(envVar, name+"<<"+delim+"\n"+value+"\n"+delim+"\n")
}

func delimiter() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("heredoc delimiter: %w", err)
	}
	return "ghadelimiter_" + hex.EncodeToString(b[:]), nil
}

func (a *Action) appendFile(envVar, text string) error {
	path := a.getenv(envVar)
	if path == "" {
		return fmt.Errorf("%s is not set: %w", envVar, ErrNoFile)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", envVar, err)
	}
	_, werr := f.WriteString(text)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("%s: %w", envVar, werr)
	}
	return nil
}

// CommandProperties are the properties of an annotation: where in which
// file it points, and its title.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#setting-an-error-message
type CommandProperties struct {
	Title     string
	File      string
	Line      int
	EndLine   int
	Col       int
	EndColumn int
}

func (p CommandProperties) pairs() []string {
	var kv []string
	add := func(k, v string) {
		if v != "" {
			kv = append(kv, k+"="+escapeProperty(v))
		}
	}
	num := func(n int) string {
		if n <= 0 {
			return ""
		}
		return fmt.Sprint(n)
	}
	add("title", p.Title)
	add("file", p.File)
	add("line", num(p.Line))
	add("endLine", num(p.EndLine))
	add("col", num(p.Col))
	add("endColumn", num(p.EndColumn))
	return kv
}

// IssueCommand writes the workflow command ::name k=v,...::message, with
// the message and the property values escaped as the runner expects.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#about-workflow-commands
func (a *Action) IssueCommand(name string, props map[string]string, message string) {
	var kv []string
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv = append(kv, k+"="+escapeProperty(props[k]))
	}
	a.command(name, kv, message)
}

func (a *Action) command(name string, kv []string, message string) {
	line := "::" + name
	if len(kv) > 0 {
		line += " " + strings.Join(kv, ",")
	}
	line += "::" + escapeData(message) + "\n"
	a.mu.Lock()
	defer a.mu.Unlock()
	io.WriteString(a.w, line)
}

// escapeData escapes a command's message: the runner decodes %25, %0D, %0A.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a property value; ':' and ',' separate properties,
// so they are escaped too.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Errorf writes an error annotation. It does not stop the step: the exit
// code does.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#setting-an-error-message
func (a *Action) Errorf(p CommandProperties, format string, args ...any) {
	a.command("error", p.pairs(), fmt.Sprintf(format, args...))
}

// Warningf writes a warning annotation.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#setting-a-warning-message
func (a *Action) Warningf(p CommandProperties, format string, args ...any) {
	a.command("warning", p.pairs(), fmt.Sprintf(format, args...))
}

// Noticef writes a notice annotation.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#setting-a-notice-message
func (a *Action) Noticef(p CommandProperties, format string, args ...any) {
	a.command("notice", p.pairs(), fmt.Sprintf(format, args...))
}

// Debugf writes a debug message, shown when step debug logging is on.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#setting-a-debug-message
func (a *Action) Debugf(format string, args ...any) {
	a.command("debug", nil, fmt.Sprintf(format, args...))
}

// Group starts a collapsible group of log lines; EndGroup ends it.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#grouping-log-lines
func (a *Action) Group(title string) { a.command("group", nil, title) }

// EndGroup ends the group Group started.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#grouping-log-lines
func (a *Action) EndGroup() { a.command("endgroup", nil, "") }

// AddMask has the runner replace value with *** in the log from now on. Each
// line of a multi-line value is masked on its own, as the runner masks lines.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#masking-a-value-in-a-log
func (a *Action) AddMask(value string) {
	for _, line := range strings.Split(strings.ReplaceAll(value, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) != "" {
			a.command("add-mask", nil, line)
		}
	}
}
