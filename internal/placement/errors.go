package placement

import (
	"errors"
	"fmt"
)

// Kind classifies a domain error by what the caller did wrong; the HTTP layer maps each kind
// to one status code.
type Kind uint8

// The kinds of domain error.
const (
	KindInternal Kind = iota // not a domain error: a bug or an I/O failure
	KindInvalid              // the request is malformed or names something impossible (400)
	KindNotFound             // the named thing does not exist (404)
	KindConflict             // the request conflicts with the current state (409)
)

// Placement's error codes, sent in error bodies from microversion 1.23.
const (
	CodeUndefined          = "placement.undefined_code"
	CodeInventoryInUse     = "placement.inventory.inuse"
	CodeConcurrentUpdate   = "placement.concurrent_update"
	CodeDuplicateName      = "placement.duplicate_name"
	CodeProviderInUse      = "placement.resource_provider.inuse"
	CodeCannotDeleteParent = "placement.resource_provider.cannot_delete_parent"
	CodeProviderNotFound   = "placement.resource_provider.not_found"
	CodeQueryDuplicateKey  = "placement.query.duplicate_key"
	CodeQueryBadValue      = "placement.query.bad_value"
	CodeQueryMissingValue  = "placement.query.missing_value"
)

// Error is a domain error whose Detail is safe to show to the client. Code is one of the
// Code constants ("" means CodeUndefined).
type Error struct {
	Kind   Kind
	Code   string
	Detail string
}

func (e *Error) Error() string { return e.Detail }

// Is reports whether target is a kind sentinel (an *Error with an empty Detail) matching e:
// same kind, and same code when the sentinel names one. That lets callers write
// errors.Is(err, placement.ErrNotFound) or errors.Is(err, placement.ErrConcurrentUpdate).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Detail != "" {
		return false
	}
	return t.Kind == e.Kind && (t.Code == "" || t.Code == e.Code)
}

// Sentinels for errors.Is.
var (
	ErrInvalid          = &Error{Kind: KindInvalid}
	ErrNotFound         = &Error{Kind: KindNotFound}
	ErrConflict         = &Error{Kind: KindConflict}
	ErrConcurrentUpdate = &Error{Kind: KindConflict, Code: CodeConcurrentUpdate}
	ErrInventoryInUse   = &Error{Kind: KindConflict, Code: CodeInventoryInUse}
)

// Errorf returns an *Error of the given kind and code with a formatted detail.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Invalidf is Errorf(KindInvalid, CodeUndefined, ...).
func Invalidf(format string, args ...any) *Error {
	return Errorf(KindInvalid, "", format, args...)
}

// NotFoundf is Errorf(KindNotFound, CodeUndefined, ...).
func NotFoundf(format string, args ...any) *Error {
	return Errorf(KindNotFound, "", format, args...)
}

// Conflictf is Errorf(KindConflict, CodeUndefined, ...).
func Conflictf(format string, args ...any) *Error {
	return Errorf(KindConflict, "", format, args...)
}

// ConcurrentUpdatef returns a generation conflict.
func ConcurrentUpdatef(format string, args ...any) *Error {
	return Errorf(KindConflict, CodeConcurrentUpdate, format, args...)
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	return errors.AsType[*Error](err)
}

// ProviderNotFound is the error for a missing provider, worded as Placement words it.
func ProviderNotFound(uuid string) *Error {
	return NotFoundf("No resource provider with uuid %s found", uuid)
}
