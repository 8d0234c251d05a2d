// Package lock defines the distributed Lock primitive, whose holders are
// fenced by versions.
package lock

import "context"

// Lock is a distributed mutual-exclusion lock. Each Lock instance is one
// owner: a Lock call on one instance blocks while any other instance, in this
// process or another, holds the lock of the same name on the same backend.
//
// Every acquisition returns a version that is unique and strictly greater
// than every earlier acquisition's, across all owners: pass it to the
// resource the lock protects, and have the resource reject writes carrying a
// smaller version than one it has seen (a fencing token). This holds as
// long as the backend does not lose acknowledged writes: on Redis, a
// failover to a replica that lacks recent writes, or a restart that reloads
// data missing the last ones, can give a version out again, and after a
// restart that lost everything versions stay increasing only if the
// server's clock did not go back (see package drivers/redis).
//
// Holders are bound to their client's session. A client that dies without
// unlocking loses the lock once its session TTL (atomix.WithSessionTTL)
// expires; Lost tells the holder.
type Lock interface {
	// Name returns the name the lock was opened with.
	Name() string
	// Lock blocks until this instance holds the lock or ctx ends, and
	// returns the fencing version. If the instance already holds the lock,
	// or a Lock or TryLock call on it is in progress, it returns ErrConflict
	// at once. If ctx ends first it leaves nothing queued behind and returns
	// an error that matches ctx.Err().
	Lock(ctx context.Context, opts ...Option) (uint64, error)
	// TryLock acquires the lock only if nobody holds it, without waiting:
	// it returns the fencing version and true, or 0 and false.
	TryLock(ctx context.Context, opts ...Option) (uint64, bool, error)
	// Unlock releases the lock held by this instance and reports whether it
	// did (false if this instance did not hold it). With IfMatch(v) it
	// releases the lock whoever holds it, if the current holder's version
	// is v.
	Unlock(ctx context.Context, opts ...Option) (bool, error)
	// IsLocked reports whether anyone holds the lock; with WithVersion(v),
	// whether the holder is the owner that got version v.
	IsLocked(ctx context.Context, opts ...Option) (bool, error)
	// Lost returns a channel that is closed when the hold this instance got
	// from its last Lock or TryLock ends: by Unlock, by Close, by another
	// owner's Unlock with IfMatch, or because the session expired or could
	// not be renewed. A holder that did not unlock must stop using the
	// protected resource when it closes. When the instance holds nothing
	// the returned channel is already closed.
	Lost() <-chan struct{}
	// Close releases the lock if this instance holds it, abandons a Lock
	// in progress, and makes later calls return ErrClosed.
	Close(ctx context.Context) error
}

// Option modifies one Lock, Unlock or IsLocked call.
type Option struct {
	version uint64
	set     bool
}

// WithVersion makes IsLocked report whether the lock is held by the owner
// that acquired it with version v.
func WithVersion(v uint64) Option { return Option{version: v, set: true} }

// IfMatch makes Unlock release the lock whoever holds it, provided the
// current hold has version v.
func IfMatch(v uint64) Option { return Option{version: v, set: true} }

// Version returns the version an option carries, and whether one was given.
// It is used by implementations of Lock.
func Version(opts []Option) (uint64, bool) {
	var v uint64
	var set bool
	for _, o := range opts {
		if o.set {
			v, set = o.version, true
		}
	}
	return v, set
}
