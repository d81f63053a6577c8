package safe_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"ingot/internal/safe"
)

func TestDoReturnsTheError(t *testing.T) {
	want := errors.New("plain")
	if err := safe.Do(func() error { return want }); err != want {
		t.Fatalf("Do = %v, want %v", err, want)
	}
	if err := safe.Do(func() error { return nil }); err != nil {
		t.Fatalf("Do = %v, want nil", err)
	}
}

//go:noinline
func dereference(p *int) int { return *p }

func TestDoRecoversAPanic(t *testing.T) {
	err := safe.Do(func() error {
		dereference(nil)
		return nil
	})
	var pe *safe.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Do = %v (%T), want a *PanicError", err, err)
	}
	var re runtime.Error
	if !errors.As(err, &re) {
		t.Errorf("the runtime error is not reachable through %v", err)
	}
	if !strings.HasPrefix(err.Error(), "panic: runtime error: invalid memory address") {
		t.Errorf("Error() = %q", err.Error())
	}
	// The stack names the function that panicked, not only the recovering one.
	if !strings.Contains(string(pe.Stack), "safe_test.dereference") {
		t.Errorf("stack lacks the panicking function:\n%s", pe.Stack)
	}
}

func TestDoRecoversAValue(t *testing.T) {
	err := safe.Do(func() error { panic("boom") })
	var pe *safe.PanicError
	if !errors.As(err, &pe) || pe.Value != "boom" || err.Error() != "panic: boom" || pe.Unwrap() != nil {
		t.Fatalf("Do = %v", err)
	}
}
