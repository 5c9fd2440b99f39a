// Package errs is Docket's one error type. Domain code returns *errs.Error with a
// code; the HTTP layer maps codes to statuses and shows Message to the user. Anything
// else is an internal error: logged in full, shown as a plain apology.
package errs

import (
	"errors"
	"fmt"
)

// Code classifies an error for the HTTP layer and for callers that branch on it.
type Code string

const (
	Invalid   Code = "invalid"   // the input is wrong; Message and Fields say how
	NotFound  Code = "not_found" // the object does not exist (or the caller may not know it does)
	Conflict  Code = "conflict"  // the object changed under the caller, or the action is not allowed in its state
	Forbidden Code = "forbidden" // the caller may not do this
	Internal  Code = "internal"  // a bug or an outage; never shown in detail
)

// Error is a domain error with a user-facing message.
type Error struct {
	Code    Code
	Message string            // one plain sentence for the user
	Fields  map[string]string // field name → message, for form and API validation
}

func (e *Error) Error() string { return e.Message }

// E builds an error with a formatted message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Fields builds a validation error from field messages. It returns nil when there
// are none, so callers can write `if err := errs.Fields(m); err != nil`.
func Fields(fields map[string]string) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "Please correct the highlighted fields.", Fields: fields}
}

// CodeOf returns the code of err, or Internal for errors that are not *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns err as *Error when it is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
