package driver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The error kinds. Drivers wrap exactly one of them in every error they
// return, except errors from the caller's context, which stay ctx.Err().
// One combination is allowed: a write whose context ended while it was in
// flight returns an error matching both ctx.Err() and ErrAmbiguous, since
// it may have been applied (see Interrupted).
var (
	// ErrNotFound: the key, element, index or value does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: an insert-if-absent found the key already present.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: a precondition (a version, a compare-and-set expectation)
	// did not hold, or a lock instance already holds the lock.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the request is malformed or exceeds a backend limit.
	ErrInvalid = errors.New("invalid argument")
	// ErrNotSupported: the backend cannot do this.
	ErrNotSupported = errors.New("not supported")
	// ErrClosed: the primitive, session or driver has been closed.
	ErrClosed = errors.New("closed")
	// ErrUnavailable: the backend could not be reached; nothing was applied.
	ErrUnavailable = errors.New("unavailable")
	// ErrTimeout: the backend did not answer in time.
	ErrTimeout = errors.New("timeout")
	// ErrAmbiguous: a write may or may not have been applied.
	ErrAmbiguous = errors.New("outcome unknown (the write may or may not have been applied)")
	// ErrPermission: the backend refused the credentials or the operation
	// (a wrong password, token or client certificate; an ACL that lacks a
	// permission). Never retried.
	ErrPermission = errors.New("permission denied")
)

// Error is the error a driver returns: a kind, what went wrong in words,
// and the backend's own error. It never names the primitive, its name, the
// operation or the key: the portable layer adds those once, so a message
// reads `atomix: map "users" (redis): insert "k": already exists`.
//
// errors.Is matches Kind; errors.As reaches Cause (a *redis.Error, an
// rpctypes.EtcdError, a *url.Error, …).
type Error struct {
	// Kind is one of the error kinds of this package.
	Kind error
	// Detail says what went wrong, without the context the portable layer
	// adds; it may be empty.
	Detail string
	// Cause is the backend's error, or nil.
	Cause error
}

// Errorf returns an *Error of kind with a formatted detail and no cause.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error of kind caused by the backend error cause, with an
// optional formatted detail (pass "" for none).
func Wrap(kind, cause error, format string, args ...any) error {
	e := &Error{Kind: kind, Cause: cause}
	if format != "" {
		e.Detail = fmt.Sprintf(format, args...)
	}
	return e
}

// Error formats the error as "kind: detail: cause", leaving out empty parts.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	}
	for _, part := range []string{e.Detail, causeText(e.Cause)} {
		if part == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(part)
	}
	return b.String()
}

func causeText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Unwrap returns the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

// Interrupted is the one rule for a request that ended because its context
// ended. For a read it returns ctx.Err(). For a write (write == true) that
// may have reached the backend it returns an error that matches both
// ctx.Err() and ErrAmbiguous: the write may have been applied. When ctx has
// not ended it returns nil, so that callers can write
//
//	if err := driver.Interrupted(ctx, true); err != nil { return err }
//
// A context whose deadline has passed counts as ended even if its timer has
// not fired yet: a socket deadline set from it (go-redis, net/http) can
// fail the request a moment before ctx.Err() says so.
func Interrupted(ctx context.Context, write bool) error {
	err := ctx.Err()
	if err == nil {
		if d, ok := ctx.Deadline(); !ok || time.Now().Before(d) {
			return nil
		}
		err = context.DeadlineExceeded
	}
	if !write {
		return err
	}
	return &interrupted{ctx: err}
}

// interrupted is a write whose context ended in flight.
type interrupted struct{ ctx error }

func (e *interrupted) Error() string { return e.ctx.Error() + ": " + ErrAmbiguous.Error() }

func (e *interrupted) Unwrap() []error { return []error{e.ctx, ErrAmbiguous} }

// IsClassified reports whether err already carries one of the error kinds
// of this package or is a context error, so a driver's classifier can pass
// it through unchanged.
func IsClassified(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	for _, k := range kinds {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

var kinds = []error{ErrNotFound, ErrAlreadyExists, ErrConflict, ErrInvalid, ErrNotSupported, ErrClosed, ErrUnavailable, ErrTimeout, ErrAmbiguous, ErrPermission}
