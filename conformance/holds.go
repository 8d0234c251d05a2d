package conformance

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
	"github.com/atomix/go-client/atomix/semaphore"
	"github.com/atomix/go-client/atomix/value"
)

// owner is one lock or semaphore instance as the scenarios that the lock
// and semaphore tiers share see it: something that acquires a hold fenced
// by a version, releases it, and reports losing it.
type owner struct {
	acquire func(context.Context) (uint64, error)
	release func(context.Context) (bool, error)
	lost    func() <-chan struct{}
	// current reports whether the hold with version is the one in force
	// (for a semaphore: whether every permit is held).
	current func(ctx context.Context, version uint64) (bool, error)
}

func lockOwner(l lock.Lock) owner {
	return owner{
		acquire: func(ctx context.Context) (uint64, error) { return l.Lock(ctx) },
		release: func(ctx context.Context) (bool, error) { return l.Unlock(ctx) },
		lost:    l.Lost,
		current: func(ctx context.Context, v uint64) (bool, error) { return l.IsLocked(ctx, lock.WithVersion(v)) },
	}
}

// semaphoreOwner takes every permit of s, a semaphore of limit permits.
func semaphoreOwner(s semaphore.Semaphore, limit int) owner {
	return owner{
		acquire: func(ctx context.Context) (uint64, error) { return s.Acquire(ctx, semaphore.Permits(limit)) },
		release: s.Release,
		lost:    s.Lost,
		current: func(ctx context.Context, _ uint64) (bool, error) {
			n, err := s.Available(ctx)
			return n == 0, err
		},
	}
}

// granted waits up to d for the async acquisition res and checks that it
// succeeded with a version above after; it returns the version.
func granted(t testing.TB, res <-chan result[uint64], d time.Duration, after uint64, msgAndArgs ...any) uint64 {
	t.Helper()
	r := await(t, res, d, msgAndArgs...)
	require.NoError(t, r.err, msgAndArgs...)
	require.Greater(t, r.val, after, "versions must strictly increase")
	return r.val
}

// testClientCloseReleases: closing the holder's client ends its hold (Lost
// closes) and lets a waiter of another client in; the holder's instance is
// closed with its client.
func testClientCloseReleases(t *testing.T, e *env, open func(*atomix.Client) owner) {
	ctx := e.ctx
	ca := e.client()
	a := open(ca)
	b := open(e.client())
	v, err := a.acquire(ctx)
	require.NoError(t, err)
	lost := a.lost()
	res := async(func() (uint64, error) { return b.acquire(ctx) })
	requirePending(t, res, e.quiet)
	require.NoError(t, ca.Close(ctx))
	requireDoneWithin(t, lost, e.event, "Lost after the client was closed")
	granted(t, res, e.event, v, "a waiter after the holder's client was closed")
	require.ErrorIs(t, errOf(a.acquire(ctx)), atomix.ErrClosed)
	expect(t, true)(b.release(ctx))
}

// testHolderVanishes: the hold of a client that vanished (Harness.Crash)
// ends once its session expires, and a waiter gets it.
func testHolderVanishes(t *testing.T, e *env, open func(*atomix.Client) owner) {
	ctx := e.ctx
	d := e.driver()
	holder := open(e.expiringClientOn(d, e.ns))
	waiter := open(e.client())
	v, err := holder.acquire(ctx)
	require.NoError(t, err)
	lost := holder.lost()
	res := async(func() (uint64, error) { return waiter.acquire(ctx) })
	requirePending(t, res, e.quiet, "an acquisition while another client holds")

	crashed := time.Now()
	e.h.Crash(d)
	v2 := granted(t, res, e.expiry, v, "the hold of a vanished holder must end once its session TTL (%v) expires", e.h.SessionTTL)
	t.Logf("the waiter got the hold %v after the holder vanished (session TTL %v)", time.Since(crashed).Round(time.Millisecond), e.h.SessionTTL)
	requireDoneWithin(t, lost, e.expiry, "Lost of the vanished holder")
	expect(t, true, "the waiter's hold is in force")(waiter.current(ctx, v2))
	expect(t, true)(waiter.release(ctx))
}

// unguardedIncrement adds one to v with a plain read and write, no
// precondition: two holders doing it at once lose an update, which is how
// the exclusion tests see a hold that was not exclusive.
func unguardedIncrement(ctx context.Context, v value.Value[int]) error {
	n, _, err := v.Get(ctx)
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	if _, err := v.Set(ctx, n+1); err != nil {
		return fmt.Errorf("set: %w", err)
	}
	return nil
}
