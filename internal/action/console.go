package action

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// console is the step's side of the runner: annotations, groups, masks,
// outputs and the step summary, through go-githubactions.
type console struct {
	a *githubactions.Action
}

// where is what an annotation points at.
type where struct {
	title string
	file  string
	line  int
}

func (w where) fields() map[string]string {
	f := map[string]string{}
	if w.title != "" {
		f["title"] = w.title
	}
	if w.file != "" {
		f["file"] = w.file
	}
	if w.line > 0 {
		f["line"] = strconv.Itoa(w.line)
	}
	return f
}

// errorf writes an error annotation. It does not fail the step: the exit
// code does.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#setting-an-error-message
func (c console) errorf(w where, format string, args ...any) {
	c.a.WithFieldsMap(w.fields()).Errorf(format, args...)
}

// warningf writes a warning annotation.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#setting-a-warning-message
func (c console) warningf(w where, format string, args ...any) {
	c.a.WithFieldsMap(w.fields()).Warningf(format, args...)
}

// noticef writes a notice annotation.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#setting-a-notice-message
func (c console) noticef(w where, format string, args ...any) {
	c.a.WithFieldsMap(w.fields()).Noticef(format, args...)
}

// errNoFile is returned when the runner named no file for a file command
// (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY): the program is not running in a step.
var errNoFile = errors.New("not running in a GitHub Actions step")

// fileDelimiter is the heredoc delimiter go-githubactions v1.3.0 writes
// outputs with. It is fixed, not random as in GitHub's own toolkit, so a value
// holding it could end the value early and set other outputs: such a value is
// refused, as the toolkit refuses a value holding its delimiter.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#multiline-strings
const fileDelimiter = "_GitHubActionsFileCommandDelimeter_"

// setOutput sets a step output (the GITHUB_OUTPUT file).
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#setting-an-output-parameter
func (c console) setOutput(name, value string) error {
	if strings.Contains(value, fileDelimiter) {
		return fmt.Errorf("output %s: the value holds the file-command delimiter %s", name, fileDelimiter)
	}
	return c.fileCommand("GITHUB_OUTPUT", func() { c.a.SetOutput(name, value) })
}

// addStepSummary appends Markdown to the job summary (GITHUB_STEP_SUMMARY).
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands#adding-a-job-summary
func (c console) addStepSummary(markdown string) error {
	return c.fileCommand("GITHUB_STEP_SUMMARY", func() { c.a.AddStepSummary(markdown) })
}

// fileCommand runs a go-githubactions file command, which panics when it
// cannot write its file; a publish step must say so and go on, so the panic
// becomes an error naming the file.
func (c console) fileCommand(envVar string, write func()) (err error) {
	if c.a.Getenv(envVar) == "" {
		return fmt.Errorf("%s is not set: %w", envVar, errNoFile)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s %s: %v", envVar, c.a.Getenv(envVar), r)
		}
	}()
	write()
	return nil
}
