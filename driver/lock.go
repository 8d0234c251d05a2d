package driver

import "context"

// Lock is a mutual-exclusion lock whose holders are fenced by versions.
//
// One Lock value is one would-be owner. Every successful acquisition gets a
// version that is unique and strictly greater than that of every earlier
// acquisition of the same lock ID, by any owner: a fencing token.
//
// A holder is bound to the session it acquired with. When the session ends
// the backend releases the lock (within the session's TTL) and the next
// waiter gets it.
type Lock interface {
	// Acquire blocks until this owner holds the lock or ctx ends. It
	// returns the fencing version and a channel that is closed when the hold
	// ends: by Release, by ReleaseVersion of the holder's version, by Close,
	// or because the session ended. Drivers must close it when the session's
	// Done channel closes, and should close it as soon as they observe that
	// the hold was removed by another owner.
	//
	// If ctx ends first, Acquire removes every trace of the attempt from the
	// backend (no queued waiter is left behind) and returns ctx.Err().
	// If this owner already holds the lock or is already acquiring it,
	// Acquire returns ErrConflict at once.
	Acquire(ctx context.Context, s Session) (version uint64, lost <-chan struct{}, err error)

	// TryAcquire is Acquire without waiting: if the lock is held by another
	// owner it returns acquired == false at once and leaves nothing behind.
	TryAcquire(ctx context.Context, s Session) (version uint64, lost <-chan struct{}, acquired bool, err error)

	// Release releases the lock if this owner holds it, and reports whether
	// it did.
	Release(ctx context.Context) (bool, error)

	// ReleaseVersion releases the lock whoever holds it, if the current hold
	// has the given version, and reports whether it did.
	ReleaseVersion(ctx context.Context, version uint64) (bool, error)

	// Holder reports whether the lock is held by anyone, and the version of
	// the current hold (0 when not held). The read is linearizable.
	Holder(ctx context.Context) (version uint64, held bool, err error)

	// Close releases the hold if this owner has one and abandons any
	// Acquire in progress (which returns ErrClosed).
	Closer
}
