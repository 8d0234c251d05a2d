package conformance

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
	"github.com/atomix/go-client/atomix/value"
)

func testLock(t *testing.T, h Harness) {
	skipIfGap(t, h, FeatureLock)
	parallel(t, "Operations", h, testLockOperations)
	parallel(t, "Conflict", h, testLockConflict)
	parallel(t, "TryLock", h, testLockTryLock)
	parallel(t, "Blocking", h, testLockBlocking)
	parallel(t, "ArrivalOrder", h, testLockArrivalOrder)
	parallel(t, "UnlockIfMatch", h, testLockUnlockIfMatch)
	parallel(t, "AbandonedWait", h, testLockAbandonedWait)
	parallel(t, "CloseReleases", h, testLockCloseReleases)
	parallel(t, "ClientCloseReleases", h, testLockClientCloseReleases)
	parallel(t, "MutualExclusion", h, testLockMutualExclusion)
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, h, lockKind) })
	parallel(t, "InvalidName", h, func(t *testing.T, e *env) {
		_, err := e.client().GetLock(e.ctx, "")
		require.ErrorIs(t, err, atomix.ErrInvalid)
	})
	parallel(t, "Closed", h, func(t *testing.T, e *env) {
		l := e.lock(e.client(), "l")
		require.NoError(t, l.Close(e.ctx))
		requireLockClosed(t, e.ctx, l)
		requireCloseAgain(t, l.Close(e.ctx))
	})
	parallel(t, "ClientClosed", h, func(t *testing.T, e *env) {
		c := e.client()
		l := e.lock(c, "l")
		require.NoError(t, c.Close(e.ctx))
		requireLockClosed(t, e.ctx, l)
		_, err := c.GetLock(e.ctx, "l")
		require.ErrorIs(t, err, atomix.ErrClosed, "GetLock on a closed client")
	})
}

// lock opens lock name through c, failing the test if it cannot.
func (e *env) lock(c *atomix.Client, name string) lock.Lock {
	e.t.Helper()
	l, err := c.GetLock(e.ctx, name)
	require.NoError(e.t, err, "GetLock %q", name)
	require.Equal(e.t, name, l.Name())
	return l
}

// acquire takes l, failing the test if it cannot, and checks that the
// version is above after.
func acquire(t testing.TB, ctx context.Context, l lock.Lock, after uint64) uint64 {
	t.Helper()
	v, err := l.Lock(ctx)
	require.NoError(t, err, "Lock")
	require.Greater(t, v, after, "lock versions must strictly increase")
	return v
}

// lockAsync starts l.Lock(ctx) in a goroutine.
func lockAsync(ctx context.Context, l lock.Lock) <-chan result[uint64] {
	return async(func() (uint64, error) { return l.Lock(ctx) })
}

func testLockOperations(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.lock(e.client(), "l")
	b := e.lock(e.client(), "l")
	require.True(t, isDone(a.Lost()), "Lost of an instance that holds nothing is closed")
	expect(t, false)(b.IsLocked(ctx))

	v1 := acquire(t, ctx, a, 0)
	lost := a.Lost()
	require.False(t, isDone(lost), "Lost of the holder")
	expect(t, true, "the other client sees the lock held")(b.IsLocked(ctx))
	expect(t, true, "IsLocked with the holder's version")(b.IsLocked(ctx, lock.WithVersion(v1)))
	expect(t, false, "IsLocked with another version")(b.IsLocked(ctx, lock.WithVersion(v1+1)))
	expect(t, false, "Unlock by an instance that does not hold the lock")(b.Unlock(ctx))
	expect(t, true, "a failed Unlock changes nothing")(b.IsLocked(ctx, lock.WithVersion(v1)))

	expect(t, true)(a.Unlock(ctx))
	requireDoneWithin(t, lost, e.event, "Lost after Unlock")
	require.True(t, isDone(a.Lost()), "Lost after Unlock")
	expect(t, false)(b.IsLocked(ctx))
	expect(t, false)(b.IsLocked(ctx, lock.WithVersion(v1)))
	expect(t, false, "a second Unlock")(a.Unlock(ctx))

	v2 := acquire(t, ctx, b, v1)
	expect(t, true)(a.IsLocked(ctx, lock.WithVersion(v2)))
	expect(t, true)(b.Unlock(ctx))
	v3 := acquire(t, ctx, a, v2) // the same instance takes the lock again
	expect(t, true)(a.Unlock(ctx))
	expect(t, false)(a.IsLocked(ctx, lock.WithVersion(v3)))
}

func testLockConflict(t *testing.T, e *env) {
	ctx := e.ctx
	c := e.client()
	a := e.lock(c, "l")
	v := acquire(t, ctx, a, 0)
	r := await(t, lockAsync(e.withTimeout(e.event), a), 2*e.event, "Lock on an instance that holds the lock")
	require.ErrorIs(t, r.err, atomix.ErrConflict, "Lock on an instance that holds the lock must fail at once")
	_, acquired, err := a.TryLock(ctx)
	require.False(t, acquired, "TryLock on an instance that holds the lock")
	if err != nil {
		require.ErrorIs(t, err, atomix.ErrConflict, "TryLock on an instance that holds the lock")
	}
	expect(t, true, "the failed calls did not disturb the hold")(a.IsLocked(ctx, lock.WithVersion(v)))
	require.False(t, isDone(a.Lost()))

	// Another instance of the same client is another owner.
	a2 := e.lock(c, "l")
	v0, ok, err := a2.TryLock(ctx)
	require.NoError(t, err)
	require.False(t, ok, "another instance of the same client must not get a held lock")
	require.Zero(t, v0)
	res := lockAsync(ctx, a2)
	requirePending(t, res, e.quiet, "Lock by another instance of the same client")
	r = await(t, lockAsync(e.withTimeout(e.event), a2), 2*e.event, "Lock on an instance whose Lock is in progress")
	require.ErrorIs(t, r.err, atomix.ErrConflict, "Lock on an instance whose Lock is in progress")
	expect(t, true)(a.Unlock(ctx))
	r = await(t, res, e.event, "the waiting instance after Unlock")
	require.NoError(t, r.err)
	require.Greater(t, r.val, v)
	expect(t, true)(a2.Unlock(ctx))
}

func testLockTryLock(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.lock(e.client(), "l")
	b := e.lock(e.client(), "l")
	v1, ok, err := a.TryLock(ctx)
	require.NoError(t, err)
	require.True(t, ok, "TryLock of a free lock")
	require.Positive(t, v1)
	require.False(t, isDone(a.Lost()), "Lost of the holder")
	v0, ok, err := b.TryLock(ctx)
	require.NoError(t, err)
	require.False(t, ok, "TryLock of a held lock")
	require.Zero(t, v0)
	require.True(t, isDone(b.Lost()), "a failed TryLock holds nothing")
	expect(t, true, "a failed TryLock does not disturb the holder")(b.IsLocked(ctx, lock.WithVersion(v1)))
	expect(t, true)(a.Unlock(ctx))
	v2, ok, err := b.TryLock(ctx)
	require.NoError(t, err)
	require.True(t, ok, "TryLock after Unlock")
	require.Greater(t, v2, v1)
	expect(t, true)(b.Unlock(ctx))
	expect(t, false, "a failed TryLock left nothing behind")(a.IsLocked(ctx))
}

func testLockBlocking(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.lock(e.client(), "l")
	b := e.lock(e.client(), "l")
	v1 := acquire(t, ctx, a, 0)
	res := lockAsync(ctx, b)
	requirePending(t, res, e.quiet, "Lock of a held lock")
	expect(t, true)(a.Unlock(ctx))
	r := await(t, res, e.event, "the waiter after Unlock")
	require.NoError(t, r.err)
	require.Greater(t, r.val, v1)
	expect(t, true)(a.IsLocked(ctx, lock.WithVersion(r.val)))
	require.False(t, isDone(b.Lost()))
	expect(t, true)(b.Unlock(ctx))
}

// testLockArrivalOrder checks that waiters get the lock in arrival order:
// of two queued waiters, the one that came first is granted the lock when
// it is released, while the second keeps waiting, and the second gets it
// next, with a greater version.
func testLockArrivalOrder(t *testing.T, e *env) {
	ctx := e.ctx
	holder := e.lock(e.client(), "l")
	first := e.lock(e.client(), "l")
	second := e.lock(e.client(), "l")
	v0 := acquire(t, ctx, holder, 0)
	firstRes := lockAsync(ctx, first)
	requirePending(t, firstRes, e.quiet, "the first waiter while the lock is held")
	secondRes := lockAsync(ctx, second)
	requirePending(t, secondRes, e.quiet, "the second waiter while the lock is held")

	expect(t, true)(holder.Unlock(ctx))
	r := await(t, firstRes, e.event, "the first waiter, once the lock is released")
	require.NoError(t, r.err)
	require.Greater(t, r.val, v0)
	requirePending(t, secondRes, e.quiet, "the second waiter while the first holds the lock")
	expect(t, true)(first.Unlock(ctx))
	r2 := await(t, secondRes, e.event, "the second waiter, after the first released")
	require.NoError(t, r2.err)
	require.Greater(t, r2.val, r.val)
	expect(t, true)(second.Unlock(ctx))
}

func testLockUnlockIfMatch(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.lock(e.client(), "l")
	b := e.lock(e.client(), "l")
	w := e.lock(e.client(), "l")
	v := acquire(t, ctx, a, 0)
	lost := a.Lost()
	res := lockAsync(ctx, w)
	requirePending(t, res, e.quiet)
	expect(t, false, "Unlock(IfMatch) with another version")(b.Unlock(ctx, lock.IfMatch(v+1)))
	expect(t, true)(b.IsLocked(ctx, lock.WithVersion(v)))
	require.False(t, isDone(lost))
	expect(t, true, "Unlock(IfMatch) with the holder's version, by another client")(b.Unlock(ctx, lock.IfMatch(v)))
	requireDoneWithin(t, lost, e.event, "Lost of a holder released by another owner")
	r := await(t, res, e.event, "the waiter after Unlock(IfMatch)")
	require.NoError(t, r.err)
	require.Greater(t, r.val, v)
	expect(t, false, "Unlock(IfMatch) of a released hold")(b.Unlock(ctx, lock.IfMatch(v)))
	expect(t, false, "Unlock by a holder released by another owner")(a.Unlock(ctx))
	expect(t, true, "the new holder keeps the lock")(b.IsLocked(ctx, lock.WithVersion(r.val)))
	expect(t, true)(w.Unlock(ctx))
	acquire(t, ctx, a, r.val)
	expect(t, true)(a.Unlock(ctx))
}

func testLockAbandonedWait(t *testing.T, e *env) {
	ctx := e.ctx
	holder := e.lock(e.client(), "l")
	timedOut := e.lock(e.client(), "l")
	cancelled := e.lock(e.client(), "l")
	next := e.lock(e.client(), "l")
	v1 := acquire(t, ctx, holder, 0)

	r := await(t, lockAsync(e.withTimeout(e.quiet), timedOut), e.event, "Lock whose context times out")
	require.ErrorIs(t, r.err, context.DeadlineExceeded, "Lock whose context times out")
	cctx, cancel := context.WithCancel(ctx)
	res := lockAsync(cctx, cancelled)
	requirePending(t, res, e.quiet)
	cancel()
	r = await(t, res, e.event, "Lock whose context is cancelled")
	require.ErrorIs(t, r.err, context.Canceled, "Lock whose context is cancelled")
	require.True(t, isDone(timedOut.Lost()))
	require.True(t, isDone(cancelled.Lost()))

	res = lockAsync(ctx, next)
	requirePending(t, res, e.quiet)
	expect(t, true)(holder.Unlock(ctx))
	r = await(t, res, e.event, "the next waiter, with the waiters that gave up queued before it")
	require.NoError(t, r.err)
	require.Greater(t, r.val, v1)
	expect(t, true)(next.Unlock(ctx))
	expect(t, false, "nobody holds the lock once everyone unlocked")(holder.IsLocked(ctx))

	for _, l := range []lock.Lock{timedOut, cancelled} {
		v, ok, err := l.TryLock(ctx)
		require.NoError(t, err)
		require.True(t, ok, "an instance whose Lock gave up can lock again")
		require.Greater(t, v, r.val)
		expect(t, true)(l.Unlock(ctx))
	}
	expect(t, false)(holder.IsLocked(ctx))
}

func testLockCloseReleases(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.lock(e.client(), "l")
	b := e.lock(e.client(), "l")
	v := acquire(t, ctx, a, 0)
	lost := a.Lost()
	require.NoError(t, a.Close(ctx))
	requireDoneWithin(t, lost, e.event, "Lost after Close")
	v2, ok, err := b.TryLock(ctx)
	require.NoError(t, err)
	require.True(t, ok, "Close releases the lock")
	require.Greater(t, v2, v)

	// Close abandons a Lock in progress and leaves nothing queued.
	w := e.lock(e.client(), "l")
	res := lockAsync(ctx, w)
	requirePending(t, res, e.quiet)
	require.NoError(t, w.Close(ctx))
	r := await(t, res, e.event, "a Lock in progress when its instance is closed")
	require.ErrorIs(t, r.err, atomix.ErrClosed, "a Lock in progress when its instance is closed")
	expect(t, true)(b.Unlock(ctx))
	c := e.lock(e.client(), "l")
	_, ok, err = c.TryLock(ctx)
	require.NoError(t, err)
	require.True(t, ok, "the abandoned Lock left nothing queued")
	expect(t, true)(c.Unlock(ctx))
}

func testLockClientCloseReleases(t *testing.T, e *env) {
	testClientCloseReleases(t, e, func(c *atomix.Client) owner { return lockOwner(e.lock(c, "l")) })
}

// testLockMutualExclusion has clients, each with its own driver, take turns
// at an unguarded read-modify-write of a shared backend value: no update may
// be lost, no two may hold at once, and the fencing versions increase from
// holder to holder.
func testLockMutualExclusion(t *testing.T, e *env) {
	ctx := e.ctx
	_, err := openValue[int](e, e.client(), "guarded").Set(ctx, 0)
	require.NoError(t, err)
	type worker struct {
		l lock.Lock
		v value.Value[int]
	}
	workers := make([]worker, lockClients)
	for i := range workers {
		c := e.client()
		workers[i] = worker{l: e.lock(c, "l"), v: openValue[int](e, c, "guarded")}
	}
	var (
		mu      sync.Mutex
		last    uint64
		holders atomic.Int32
	)
	concurrently(t, lockClients, func(i int) error {
		w := workers[i]
		for round := range lockRounds {
			version, err := w.l.Lock(ctx)
			if err != nil {
				return fmt.Errorf("client %d round %d: lock: %w", i, round, err)
			}
			if n := holders.Add(1); n != 1 {
				return fmt.Errorf("client %d got version %d while %d others held the lock", i, version, n-1)
			}
			mu.Lock()
			prev := last
			last = max(last, version)
			mu.Unlock()
			if version <= prev {
				return fmt.Errorf("client %d got fencing version %d, not above the previous holder's %d", i, version, prev)
			}
			if err := unguardedIncrement(ctx, w.v); err != nil { // the lock is all that protects it
				return fmt.Errorf("client %d: %w", i, err)
			}
			holders.Add(-1)
			if ok, err := w.l.Unlock(ctx); err != nil || !ok {
				return fmt.Errorf("client %d: unlock of a held lock returned %v, %v", i, ok, err)
			}
		}
		return nil
	})
	n, _, err := workers[0].v.Get(ctx)
	require.NoError(t, err)
	require.Equal(t, lockClients*lockRounds, n, "updates under the lock were lost")
	expect(t, false)(workers[0].l.IsLocked(ctx))
}

func requireLockClosed(t *testing.T, ctx context.Context, l lock.Lock) {
	t.Helper()
	requireClosedErrors(t, map[string]error{
		"Lock":     errOf(l.Lock(ctx)),
		"TryLock":  errOf3(l.TryLock(ctx)),
		"Unlock":   errOf(l.Unlock(ctx)),
		"IsLocked": errOf(l.IsLocked(ctx)),
	})
	require.True(t, isDone(l.Lost()), "Lost of a closed instance")
}
