package driver

import "context"

// Hold is one owner's acquisition of a lock.
type Hold struct {
	// Version is the fencing version of the acquisition: unique and
	// strictly greater than that of every earlier acquisition of the same
	// lock ID, by any owner.
	Version uint64
	// Gone is closed when the driver sees that the hold has ended on the
	// backend: released by its owner or by version, or removed because its
	// session ended. A driver must close it no later than the session's
	// Done channel closes, and should close it as soon as it observes the
	// removal. It may be closed late but never early.
	Gone <-chan struct{}
	// Notify, if not nil, lets the portable layer learn that Gone closed
	// without a goroutine of its own blocked on it for as long as the hold
	// lasts: Notify(f) arranges for f to be called once, after Gone is
	// closed, by the goroutine that closes it (by the caller, at once, if
	// Gone is closed already). f must return promptly and must not call
	// the driver. A driver may leave it nil; GoneSignal provides it.
	Notify func(f func())
}

// Lock is a mutual-exclusion lock whose holders are fenced by versions.
//
// The driver keeps no state per owner: an owner is a string chosen by the
// portable layer (unique per lock instance), and a hold is identified on the
// backend by the owner and its version. What the portable layer relies on:
// the owner string is non-empty and at most 64 bytes; one owner makes at most
// one Acquire or TryAcquire call at a time and never acquires while it holds
// the lock; the session was created by the same driver.
//
// A holder is bound to the session it acquired with. When the session ends
// the backend releases the lock (within the session's TTL) and the next
// waiter gets it.
type Lock interface {
	// Acquire blocks until owner holds the lock or ctx ends. Waiters are
	// granted the lock in arrival order where the backend can order them.
	//
	// If ctx ends first, Acquire removes every trace of the attempt from
	// the backend (no queued waiter is left behind) and returns ctx.Err();
	// if the lock was granted meanwhile, the hold is released first. If s
	// ends while Acquire waits it withdraws the wait and returns an error
	// (of any kind); the portable layer, seeing s.Done() closed, waits again
	// with a new session.
	Acquire(ctx context.Context, s Session, owner string) (Hold, error)

	// TryAcquire is Acquire without waiting: if the lock is held it returns
	// acquired == false at once and leaves nothing behind.
	TryAcquire(ctx context.Context, s Session, owner string) (hold Hold, acquired bool, err error)

	// Release releases the lock if owner holds it with version, and reports
	// whether it did. Releasing a hold that already ended returns false.
	Release(ctx context.Context, owner string, version uint64) (bool, error)

	// ReleaseVersion releases the lock whoever holds it, if the current hold
	// has the given version, and reports whether it did.
	ReleaseVersion(ctx context.Context, version uint64) (bool, error)

	// Holder reports whether the lock is held by anyone, and the version of
	// the current hold (0 when not held). The read is linearizable.
	Holder(ctx context.Context) (version uint64, held bool, err error)

	Closer
}
