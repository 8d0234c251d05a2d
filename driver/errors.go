package driver

import "errors"

// The error kinds. Drivers wrap exactly one of them in every error they
// return, except errors from the caller's context, which stay ctx.Err().
// One combination is allowed: a write whose context ended while it was in
// flight returns an error matching both ctx.Err() and ErrAmbiguous, since
// it may have been applied.
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
)
