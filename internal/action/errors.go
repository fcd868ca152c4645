package action

import "errors"

// Class is how bad an outcome is, from a pass to the user's mistake; the
// command that runs the action maps it to the process exit code.
type Class int

// Classes, in the order a step's outcome is chosen: the most severe of its
// suites' wins.
const (
	classPass       Class = iota
	ClassIncomplete       // a budget or deadline hit, cancelled, nothing evaluated
	ClassRegressed        // a success criterion regressed (or, by fail-on, was inconclusive)
	ClassInfra            // a provider or infrastructure failure
	ClassUsage            // a usage, config or data error
)

// Error is an outcome that is not a pass, with its Class. The Runner returns
// its errors as *Error too.
type Error struct {
	Class Class
	Err   error
	// cause is the runner's error of the suite that decided the class.
	cause error
}

// Error is the outcome's message.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the error, then the suite's error that decided the class.
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.cause}
}

// ClassOf is the class of err: its own when it is an *Error, a pass when it
// is nil, an infrastructure failure otherwise (an unexpected error must never
// look like a pass or like the user's mistake).
func ClassOf(err error) Class {
	if err == nil {
		return classPass
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return ClassInfra
}

func usage(err error) error { return &Error{Class: ClassUsage, Err: err} }
func infra(err error) error { return &Error{Class: ClassInfra, Err: err} }
