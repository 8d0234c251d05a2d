// Package semaphore defines the distributed Semaphore primitive: a counting
// semaphore whose acquisitions are fenced by versions.
package semaphore

import (
	"context"

	"github.com/atomix/go-client/atomix/primitive"
)

// Semaphore is a distributed counting semaphore: at most its limit of
// permits (WithLimit, default 1) are held at once, across every instance of
// the same name on the same backend. Each Semaphore instance is one owner
// and makes one acquisition at a time, of one or more permits (Permits).
//
// Every acquisition returns a version that is unique and strictly greater
// than that of every earlier acquisition of the semaphore, by any owner:
// pass it to the resource the permits protect as a fencing token (see
// package lock for what that guarantees on each backend).
//
// Waiters are granted in arrival order where the driver can order them (a
// large request waits its turn and is not starved by a stream of small ones;
// a TryAcquire does not overtake a waiter); each driver's doc says what it
// does. Holders are bound to their client's session: permits of a client
// that dies are given back once its session TTL (atomix.WithSessionTTL)
// expires, and Lost tells the holder.
type Semaphore interface {
	// Name returns the name the semaphore was opened with.
	Name() string
	// Close releases the permits this instance holds, abandons an Acquire
	// in progress, and makes later calls return ErrClosed. A release the
	// backend could not confirm is retried in the background until it is
	// (or the session expires), and Close returns its error.
	Close(ctx context.Context) error
	// Acquire blocks until this instance holds the permits it asks for
	// (Permits, default 1) or ctx ends, and returns the fencing version. If
	// the instance already holds permits, or an Acquire or TryAcquire call
	// on it is in progress, it returns ErrConflict at once; a number of
	// permits below 1 or above the limit is ErrInvalid; a limit that
	// disagrees with the one other instances use is ErrConflict. If ctx
	// ends first it leaves nothing queued behind and returns an error that
	// matches ctx.Err(). If the client's session expires while it waits,
	// it goes on waiting with the client's next session.
	Acquire(ctx context.Context, opts ...Option) (uint64, error)
	// TryAcquire is Acquire without waiting: it returns the fencing version
	// and true if the permits were free (and, where waiters are ordered,
	// nobody was waiting), else 0 and false, leaving nothing behind.
	TryAcquire(ctx context.Context, opts ...Option) (uint64, bool, error)
	// Release gives back the permits this instance holds and reports
	// whether it held any. The hold ends locally at once (Lost closes); if
	// the backend cannot confirm the release it is retried in the
	// background and the error is returned.
	Release(ctx context.Context) (bool, error)
	// Lost returns a channel that is closed when the hold this instance got
	// from its last Acquire or TryAcquire ends: by Release, by Close, or
	// because the session expired or could not be renewed. A holder that
	// did not release must stop using the protected resource when it
	// closes. When the instance holds nothing the channel is already closed.
	Lost() <-chan struct{}
	// Available reports how many permits are free now: the limit minus the
	// permits held (waiters do not count).
	Available(ctx context.Context) (int, error)
}

// WithLimit sets the total number of permits of the semaphore, 1 if not
// given. Every instance of one semaphore must use the same limit: the first
// to acquire records it on the backend, and an instance with another limit
// gets ErrConflict (from the getter or from its first Acquire or
// TryAcquire). A limit below 1 is ErrInvalid.
func WithLimit(n int) primitive.Option {
	return func(o *primitive.Options) { o.Limit, o.LimitSet = n, true }
}

// Option modifies one Acquire or TryAcquire call.
type Option struct {
	permits int
	set     bool
}

// Permits sets how many permits an Acquire or TryAcquire call takes,
// 1 if not given. A number below 1 or above the semaphore's limit makes the
// call fail with ErrInvalid.
func Permits(n int) Option { return Option{permits: n, set: true} }

// PermitsOf returns the number of permits the options ask for (the last
// Permits given), and whether any was given. It is used by implementations
// of Semaphore.
func PermitsOf(opts []Option) (int, bool) {
	n, set := 1, false
	for _, o := range opts {
		if o.set {
			n, set = o.permits, true
		}
	}
	return n, set
}
