package driver

import "context"

// SemaphoreOpener is implemented by a Driver that supports semaphores. It is
// a separate interface, not a method of Driver, so that drivers written
// before semaphores existed keep compiling: the portable layer asks for it
// with a type assertion and reports ErrNotSupported when it is missing.
type SemaphoreOpener interface {
	// OpenSemaphore opens the semaphore id with limit permits in total.
	// The portable layer guarantees limit >= 1.
	//
	// The limit is recorded on the backend by the first acquisition (or the
	// first open, if the driver checks there) and every later one must
	// agree: an OpenSemaphore, Acquire or TryAcquire whose limit differs
	// from the recorded one returns an error wrapping ErrConflict. The
	// check must hold at least while any permit is held or any waiter is
	// queued; a driver may forget the limit once the semaphore is idle
	// (nothing held, nobody waiting), and must say in its doc whether it
	// does. OpenSemaphore need not contact the backend.
	OpenSemaphore(ctx context.Context, id ID, limit int) (Semaphore, error)
}

// Semaphore is a counting semaphore: at most limit permits are held at once,
// by any number of owners, and every acquisition is fenced by a version.
//
// As for Lock, the driver keeps no state per owner: an owner is a string
// chosen by the portable layer (unique per semaphore instance, non-empty, at
// most 64 bytes), and an acquisition is identified on the backend by the
// owner and its version. What the portable layer relies on: one owner makes
// at most one Acquire or TryAcquire call at a time and never acquires while
// it holds permits; 1 <= permits <= limit; the session was created by the
// same driver.
//
// An acquisition is bound to the session it was made with. When the session
// ends the backend releases its permits (within the session's TTL) and the
// waiters they let in are granted.
//
// Hold.Version is unique and strictly greater than the version of every
// earlier acquisition of the same semaphore ID, by any owner. Hold.Gone
// follows the rules of Lock: closed when the driver sees the acquisition
// ended on the backend, never early, no later than the session's Done.
type Semaphore interface {
	// Acquire blocks until owner holds permits permits or ctx ends.
	//
	// Where the backend can order waiters, they are granted in arrival
	// order: a waiter is granted only once every earlier waiter has been,
	// so a large request is never starved by a stream of small ones. A
	// driver that cannot order waiters says so in its doc.
	//
	// The backend wakes a waiter (a watch, a notification, a blocking
	// query); a driver never polls. If ctx ends first, Acquire removes
	// every trace of the attempt from the backend (no queued waiter is left
	// behind) and returns ctx.Err(); if the permits were granted meanwhile,
	// they are released first. If s ends while Acquire waits it withdraws
	// the wait and returns an error (of any kind); the portable layer,
	// seeing s.Done() closed, waits again with a new session.
	//
	// A limit that disagrees with the one recorded on the backend is
	// ErrConflict (see SemaphoreOpener).
	Acquire(ctx context.Context, s Session, owner string, permits int) (Hold, error)

	// TryAcquire is Acquire without waiting: if the permits are not free at
	// once, or (where the driver orders waiters) somebody is already
	// waiting, it returns acquired == false and leaves nothing behind.
	TryAcquire(ctx context.Context, s Session, owner string, permits int) (hold Hold, acquired bool, err error)

	// Release gives back the permits that owner holds with version, and
	// reports whether it did. Releasing an acquisition that already ended
	// (released, or its session ended) returns false and no error.
	Release(ctx context.Context, owner string, version uint64) (bool, error)

	// Available reports how many permits are free now: the limit minus the
	// permits held (waiters do not count). The read is linearizable.
	Available(ctx context.Context) (int, error)

	Closer
}
