package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/evalgate/evalgate/internal/gate"
)

// Exit codes: the one place where outcomes become process exit codes
// (../DESIGN.md). A gate that exits 0 when nothing was evaluated is worse than
// none, so "nothing ran" is ExitIncomplete, never ExitPass.
const (
	ExitPass       = 0 // every criterion passed
	ExitRegressed  = 1 // a success criterion regressed
	ExitUsage      = 2 // usage, config or data error
	ExitProvider   = 3 // provider or infrastructure failure
	ExitIncomplete = 4 // budget or deadline hit, cancelled, or nothing evaluated
	// ExitInternal is a bug in evalgate (a panic). To the workflow it is an
	// infrastructure failure: never a pass, never the user's mistake.
	ExitInternal = ExitProvider
)

// panicked is an error that stands for a panic: a bug in evalgate. Its
// message is short; the stack is printed only when EVALGATE_DEBUG is set.
type panicked interface {
	error
	PanicStack() []byte
}

// panicError is a panic of a command's own goroutine, recovered by Main
// (run.PanicError is one of the engine's workers).
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string      { return fmt.Sprintf("internal error: %v", e.value) }
func (e *panicError) PanicStack() []byte { return e.stack }

// exitError carries an exit code up to Main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks err as the user's mistake (config, dataset, flags).
func usageErr(err error) error { return &exitError{ExitUsage, err} }

// usagef is usageErr with formatting.
func usagef(format string, args ...any) error { return usageErr(fmt.Errorf(format, args...)) }

// loadErr marks an error of loading a suite: the user's mistake, unless
// loading was stopped (a signal), which leaves the run incomplete.
func loadErr(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return outcome(ExitIncomplete, "stopped before anything was evaluated (%w)", err)
	}
	return usageErr(err)
}

// providerErr marks err as a provider or infrastructure failure.
func providerErr(err error) error { return &exitError{ExitProvider, err} }

// outcome is a run's result that is not an error but still decides the code
// (regressed, incomplete); its message is printed like an error.
func outcome(code int, format string, args ...any) error {
	return &exitError{code, fmt.Errorf(format, args...)}
}

// verdictCode maps a verdict to the exit code: a blocking verdict (regressed,
// or inconclusive in non_inferiority mode) is a regression, an incomplete one
// is incomplete, and criteria that cannot be checked are a config error.
func verdictCode(v *gate.Verdict) int {
	switch v.Status {
	case gate.StatusPass, gate.StatusRegressed, gate.StatusInconclusive:
		if v.Blocks() {
			return ExitRegressed
		}
		return ExitPass
	case gate.StatusIncomplete:
		return ExitIncomplete
	}
	return ExitUsage
}

// exitCode maps an error returned by a command to the process exit code.
// Errors not marked otherwise are infrastructure failures: an unexpected error
// must never look like a pass or like the user's mistake.
func exitCode(err error) int {
	if err == nil {
		return ExitPass
	}
	var p panicked
	if errors.As(err, &p) {
		return ExitInternal
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitProvider
}
