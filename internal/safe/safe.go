// Package safe runs a function whose panic must not end the process (a tracker pass, an
// instance step, a queued database write): the panic becomes an error carrying the stack
// of the goroutine where it happened.
package safe

import (
	"fmt"
	"runtime/debug"
)

// PanicError is a recovered panic.
type PanicError struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the panicking goroutine's stack, as runtime/debug.Stack formats it.
	Stack []byte
}

// Error is "panic: " and the value; the stack is left out (log it from Stack).
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic's value when it is an error, so errors.Is and errors.As see a
// runtime.Error or an error passed to panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Do runs f and returns its error, or a *PanicError when f panics.
func Do(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	return f()
}
