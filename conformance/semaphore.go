package conformance

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/semaphore"
	"github.com/atomix/go-client/atomix/value"
)

// The sizes of the semaphore exclusion test: semClients clients, each with
// its own driver, take semRounds acquisitions each of a semaphore with
// semLimit permits.
const (
	semClients = 4
	semRounds  = 8
	semLimit   = 3
)

func testSemaphore(t *testing.T, h Harness) {
	skipIfGap(t, h, FeatureSemaphore)
	parallel(t, "Operations", h, testSemaphoreOperations)
	parallel(t, "Conflict", h, testSemaphoreConflict)
	parallel(t, "TryAcquire", h, testSemaphoreTryAcquire)
	parallel(t, "Blocking", h, testSemaphoreBlocking)
	parallel(t, "ArrivalOrder", h, testSemaphoreArrivalOrder)
	parallel(t, "AbandonedWait", h, testSemaphoreAbandonedWait)
	parallel(t, "CloseReleases", h, testSemaphoreCloseReleases)
	parallel(t, "ClientCloseReleases", h, testSemaphoreClientCloseReleases)
	parallel(t, "LimitConflict", h, testSemaphoreLimitConflict)
	parallel(t, "Invalid", h, testSemaphoreInvalid)
	parallel(t, "Exclusion", h, testSemaphoreExclusion)
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, h, semaphoreKind) })
	parallel(t, "Closed", h, func(t *testing.T, e *env) {
		s := e.semaphore(e.client(), "s", 2)
		require.NoError(t, s.Close(e.ctx))
		requireSemaphoreClosed(t, e.ctx, s)
		requireCloseAgain(t, s.Close(e.ctx))
	})
	parallel(t, "ClientClosed", h, func(t *testing.T, e *env) {
		c := e.client()
		s := e.semaphore(c, "s", 2)
		require.NoError(t, c.Close(e.ctx))
		requireSemaphoreClosed(t, e.ctx, s)
		_, err := c.GetSemaphore(e.ctx, "s", semaphore.WithLimit(2))
		require.ErrorIs(t, err, atomix.ErrClosed, "GetSemaphore on a closed client")
	})
}

// semaphore opens semaphore name with limit permits through c, failing the
// test if it cannot.
func (e *env) semaphore(c *atomix.Client, name string, limit int) semaphore.Semaphore {
	e.t.Helper()
	s, err := c.GetSemaphore(e.ctx, name, semaphore.WithLimit(limit))
	require.NoError(e.t, err, "GetSemaphore %q", name)
	require.Equal(e.t, name, s.Name())
	return s
}

// take acquires n permits of s, failing the test if it cannot, and checks
// that the version is above after.
func take(t testing.TB, ctx context.Context, s semaphore.Semaphore, n int, after uint64) uint64 {
	t.Helper()
	v, err := s.Acquire(ctx, semaphore.Permits(n))
	require.NoError(t, err, "Acquire %d", n)
	require.Greater(t, v, after, "semaphore versions must strictly increase")
	return v
}

// takeAsync starts s.Acquire(ctx, Permits(n)) in a goroutine.
func takeAsync(ctx context.Context, s semaphore.Semaphore, n int) <-chan result[uint64] {
	return async(func() (uint64, error) { return s.Acquire(ctx, semaphore.Permits(n)) })
}

// tryTake calls s.TryAcquire for n permits and checks that it returned
// want without error.
func tryTake(t testing.TB, ctx context.Context, s semaphore.Semaphore, n int, want bool, msg string) uint64 {
	t.Helper()
	v, ok, err := s.TryAcquire(ctx, semaphore.Permits(n))
	require.NoError(t, err, msg)
	require.Equal(t, want, ok, msg)
	if !ok {
		require.Zero(t, v, msg)
		require.True(t, isDone(s.Lost()), "%s: a failed TryAcquire holds nothing", msg)
	}
	return v
}

func testSemaphoreOperations(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.semaphore(e.client(), "s", 2)
	b := e.semaphore(e.client(), "s", 2)
	require.True(t, isDone(a.Lost()), "Lost of an instance that holds nothing is closed")
	expect(t, 2, "all permits free")(b.Available(ctx))
	expect(t, false, "Release by an instance that holds nothing")(a.Release(ctx))

	v1 := take(t, ctx, a, 1, 0)
	lost := a.Lost()
	require.False(t, isDone(lost), "Lost of a holder")
	expect(t, 1)(b.Available(ctx))
	v2 := take(t, ctx, b, 1, v1)
	expect(t, 0)(a.Available(ctx))
	require.False(t, isDone(b.Lost()))

	expect(t, true)(a.Release(ctx))
	requireDoneWithin(t, lost, e.event, "Lost after Release")
	require.True(t, isDone(a.Lost()), "Lost after Release")
	expect(t, 1)(b.Available(ctx))
	expect(t, false, "a second Release")(a.Release(ctx))
	require.False(t, isDone(b.Lost()), "another holder's Release leaves b's hold")

	v3 := take(t, ctx, a, 1, v2) // the same instance acquires again
	expect(t, true)(b.Release(ctx))
	expect(t, true)(a.Release(ctx))
	v4 := take(t, ctx, b, 2, v3)
	expect(t, 0, "two permits held")(a.Available(ctx))
	expect(t, true)(b.Release(ctx))
	expect(t, 2, "all permits free once everyone released")(a.Available(ctx))
	require.Positive(t, v4)
}

func testSemaphoreConflict(t *testing.T, e *env) {
	ctx := e.ctx
	c := e.client()
	a := e.semaphore(c, "s", 2)
	take(t, ctx, a, 1, 0)
	r := await(t, takeAsync(e.withTimeout(e.event), a, 1), 2*e.event, "Acquire on an instance that holds permits")
	require.ErrorIs(t, r.err, atomix.ErrConflict, "Acquire on an instance that holds permits must fail at once")
	_, ok, err := a.TryAcquire(ctx)
	require.False(t, ok, "TryAcquire on an instance that holds permits")
	if err != nil {
		require.ErrorIs(t, err, atomix.ErrConflict, "TryAcquire on an instance that holds permits")
	}
	require.False(t, isDone(a.Lost()), "the failed calls did not disturb the hold")
	expect(t, 1)(a.Available(ctx))

	// Another instance of the same client is another owner.
	a2 := e.semaphore(c, "s", 2)
	take(t, ctx, a2, 1, 0)
	a3 := e.semaphore(c, "s", 2)
	res := takeAsync(ctx, a3, 1)
	requirePending(t, res, e.quiet, "Acquire with no permit free")
	r = await(t, takeAsync(e.withTimeout(e.event), a3, 1), 2*e.event, "Acquire on an instance whose Acquire is in progress")
	require.ErrorIs(t, r.err, atomix.ErrConflict, "Acquire on an instance whose Acquire is in progress")
	expect(t, true)(a.Release(ctx))
	granted(t, res, e.event, 0, "the waiter after a Release")
	expect(t, true)(a2.Release(ctx))
	expect(t, true)(a3.Release(ctx))
}

func testSemaphoreTryAcquire(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.semaphore(e.client(), "s", 3)
	b := e.semaphore(e.client(), "s", 3)
	v1 := tryTake(t, ctx, a, 2, true, "TryAcquire of 2 free permits")
	require.False(t, isDone(a.Lost()), "Lost of a holder")
	tryTake(t, ctx, b, 2, false, "TryAcquire of 2 permits with 1 free")
	expect(t, 1, "a failed TryAcquire takes nothing")(a.Available(ctx))
	v2 := tryTake(t, ctx, b, 1, true, "TryAcquire of the last free permit")
	require.Greater(t, v2, v1)
	expect(t, 0)(a.Available(ctx))
	expect(t, true)(a.Release(ctx))
	expect(t, true)(b.Release(ctx))
	v3 := tryTake(t, ctx, b, 3, true, "TryAcquire of every permit")
	require.Greater(t, v3, v2)
	expect(t, true)(b.Release(ctx))
	expect(t, 3, "a failed TryAcquire left nothing behind")(a.Available(ctx))
}

func testSemaphoreBlocking(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.semaphore(e.client(), "s", 2)
	b := e.semaphore(e.client(), "s", 2)
	v1 := take(t, ctx, a, 2, 0)
	res := takeAsync(ctx, b, 1)
	requirePending(t, res, e.quiet, "Acquire with no permit free")
	expect(t, true)(a.Release(ctx))
	granted(t, res, e.event, v1, "the waiter after Release")
	require.False(t, isDone(b.Lost()))
	expect(t, 1)(a.Available(ctx))
	expect(t, true)(b.Release(ctx))
}

// testSemaphoreArrivalOrder checks that waiters are granted in arrival
// order: a request for every permit, queued first, is not overtaken by a
// smaller one that would fit, nor by a TryAcquire.
func testSemaphoreArrivalOrder(t *testing.T, e *env) {
	skipIfGap(t, e.h, FeatureSemaphoreFIFO)
	ctx := e.ctx
	holder := e.semaphore(e.client(), "s", 3)
	big := e.semaphore(e.client(), "s", 3)
	small := e.semaphore(e.client(), "s", 3)
	other := e.semaphore(e.client(), "s", 3)
	v0 := take(t, ctx, holder, 2, 0)
	bigRes := takeAsync(ctx, big, 3)
	requirePending(t, bigRes, e.quiet, "Acquire of every permit while 2 are held")
	smallRes := takeAsync(ctx, small, 1)
	requirePending(t, smallRes, e.quiet, "Acquire of the one free permit behind a waiter: it must wait its turn")
	tryTake(t, ctx, other, 1, false, "TryAcquire of a free permit behind waiters")
	expect(t, 1, "waiters take no permits")(other.Available(ctx))

	expect(t, true)(holder.Release(ctx))
	v1 := granted(t, bigRes, e.event, v0, "the first waiter, once every permit is free")
	requirePending(t, smallRes, e.quiet, "the second waiter while the first holds every permit")
	expect(t, true)(big.Release(ctx))
	granted(t, smallRes, e.event, v1, "the second waiter after the first released: versions follow the order of the grants")
	expect(t, true)(small.Release(ctx))
}

func testSemaphoreAbandonedWait(t *testing.T, e *env) {
	ctx := e.ctx
	holder := e.semaphore(e.client(), "s", 2)
	timedOut := e.semaphore(e.client(), "s", 2)
	cancelled := e.semaphore(e.client(), "s", 2)
	next := e.semaphore(e.client(), "s", 2)
	v1 := take(t, ctx, holder, 2, 0)

	r := await(t, takeAsync(e.withTimeout(e.quiet), timedOut, 2), e.event, "Acquire whose context times out")
	require.ErrorIs(t, r.err, context.DeadlineExceeded, "Acquire whose context times out")
	cctx, cancel := context.WithCancel(ctx)
	res := takeAsync(cctx, cancelled, 1)
	requirePending(t, res, e.quiet)
	cancel()
	r = await(t, res, e.event, "Acquire whose context is cancelled")
	require.ErrorIs(t, r.err, context.Canceled, "Acquire whose context is cancelled")
	require.True(t, isDone(timedOut.Lost()))
	require.True(t, isDone(cancelled.Lost()))

	res = takeAsync(ctx, next, 2)
	requirePending(t, res, e.quiet)
	expect(t, true)(holder.Release(ctx))
	v2 := granted(t, res, e.event, v1, "the next waiter, with the waiters that gave up queued before it")
	expect(t, true)(next.Release(ctx))
	expect(t, 2, "nothing is held once everyone released")(holder.Available(ctx))
	v := tryTake(t, ctx, timedOut, 2, true, "an instance whose Acquire gave up acquires again, with nothing queued ahead")
	require.Greater(t, v, v2)
	expect(t, true)(timedOut.Release(ctx))
}

func testSemaphoreCloseReleases(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.semaphore(e.client(), "s", 2)
	b := e.semaphore(e.client(), "s", 2)
	v := take(t, ctx, a, 2, 0)
	lost := a.Lost()
	require.NoError(t, a.Close(ctx))
	requireDoneWithin(t, lost, e.event, "Lost after Close")
	v2 := tryTake(t, ctx, b, 2, true, "Close releases the permits")
	require.Greater(t, v2, v)

	// Close abandons an Acquire in progress and leaves nothing queued.
	w := e.semaphore(e.client(), "s", 2)
	res := takeAsync(ctx, w, 1)
	requirePending(t, res, e.quiet)
	require.NoError(t, w.Close(ctx))
	r := await(t, res, e.event, "an Acquire in progress when its instance is closed")
	require.ErrorIs(t, r.err, atomix.ErrClosed, "an Acquire in progress when its instance is closed")
	expect(t, true)(b.Release(ctx))
	c := e.semaphore(e.client(), "s", 2)
	tryTake(t, ctx, c, 2, true, "the abandoned Acquire left nothing queued")
	expect(t, true)(c.Release(ctx))
}

func testSemaphoreClientCloseReleases(t *testing.T, e *env) {
	testClientCloseReleases(t, e, func(c *atomix.Client) owner { return semaphoreOwner(e.semaphore(c, "s", 2), 2) })
}

// testSemaphoreLimitConflict checks that an instance whose limit disagrees
// with the one in use is refused with ErrConflict, by the getter or by its
// first acquisition, and disturbs nothing.
func testSemaphoreLimitConflict(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.semaphore(e.client(), "s", 2)
	take(t, ctx, a, 1, 0)
	s, err := e.client().GetSemaphore(ctx, "s", semaphore.WithLimit(3))
	if err == nil {
		_, err = s.Acquire(e.withTimeout(e.event))
		require.ErrorIs(t, err, atomix.ErrConflict, "Acquire with a limit of 3 while others use 2")
		_, ok, err := s.TryAcquire(ctx)
		require.False(t, ok)
		require.ErrorIs(t, err, atomix.ErrConflict, "TryAcquire with a limit of 3 while others use 2")
	} else {
		require.ErrorIs(t, err, atomix.ErrConflict, "GetSemaphore with a limit of 3 while others use 2")
	}
	expect(t, 1, "the refused instance took nothing")(a.Available(ctx))
	b := e.semaphore(e.client(), "s", 2)
	tryTake(t, ctx, b, 1, true, "an instance that agrees on the limit")
	expect(t, true)(b.Release(ctx))
	expect(t, true)(a.Release(ctx))
}

func testSemaphoreInvalid(t *testing.T, e *env) {
	ctx := e.ctx
	c := e.client()
	for _, n := range []int{0, -1} {
		_, err := c.GetSemaphore(ctx, "s", semaphore.WithLimit(n))
		require.ErrorIs(t, err, atomix.ErrInvalid, "WithLimit(%d)", n)
	}
	_, err := c.GetSemaphore(ctx, "")
	require.ErrorIs(t, err, atomix.ErrInvalid, "an empty name")
	s := e.semaphore(c, "s", 2)
	for _, n := range []int{0, -1, 3} {
		_, err := s.Acquire(ctx, semaphore.Permits(n))
		require.ErrorIs(t, err, atomix.ErrInvalid, "Acquire of %d permits of 2", n)
		_, ok, err := s.TryAcquire(ctx, semaphore.Permits(n))
		require.False(t, ok)
		require.ErrorIs(t, err, atomix.ErrInvalid, "TryAcquire of %d permits of 2", n)
	}
	require.True(t, isDone(s.Lost()))
	expect(t, 2, "refused calls take nothing")(s.Available(ctx))
}

// testSemaphoreExclusion has clients, each with its own driver, acquire 1
// to semLimit permits at random-looking sizes and check that never more
// than the limit are held at once (an unguarded in-process count of held
// permits), that holders of every permit are alone (an unguarded
// read-modify-write of a backend value, which loses updates otherwise), and
// that versions are fencing tokens: unique, and each above the version of
// every acquisition that ended before it was granted.
func testSemaphoreExclusion(t *testing.T, e *env) {
	ctx := e.ctx
	_, err := openValue[int](e, e.client(), "guarded").Set(ctx, 0)
	require.NoError(t, err)
	type worker struct {
		s semaphore.Semaphore
		v value.Value[int]
	}
	workers := make([]worker, semClients)
	for i := range workers {
		c := e.client()
		workers[i] = worker{s: e.semaphore(c, "s", semLimit), v: openValue[int](e, c, "guarded")}
	}
	var (
		held      atomic.Int32 // permits held, as the holders count them
		mu        sync.Mutex
		versions  = map[uint64]bool{}
		released  uint64 // the highest version released so far
		exclusive atomic.Int32
	)
	concurrently(t, semClients, func(i int) error {
		w := workers[i]
		for round := range semRounds {
			n := 1 + (i+round)%semLimit
			mu.Lock()
			before := released
			mu.Unlock()
			version, err := w.s.Acquire(ctx, semaphore.Permits(n))
			if err != nil {
				return fmt.Errorf("client %d round %d: acquire %d: %w", i, round, n, err)
			}
			if h := held.Add(int32(n)); h > semLimit {
				return fmt.Errorf("client %d got %d permits (version %d) while %d were held: the limit is %d", i, n, version, h-int32(n), semLimit)
			}
			mu.Lock()
			dup := versions[version]
			versions[version] = true
			mu.Unlock()
			if dup {
				return fmt.Errorf("client %d got version %d, given out before", i, version)
			}
			if version <= before {
				return fmt.Errorf("client %d got version %d, not above %d, released before it asked", i, version, before)
			}
			if n == semLimit {
				exclusive.Add(1)
				if err := unguardedIncrement(ctx, w.v); err != nil { // the permits are all that protect it
					return fmt.Errorf("client %d: %w", i, err)
				}
			}
			held.Add(-int32(n))
			mu.Lock()
			released = max(released, version)
			mu.Unlock()
			if ok, err := w.s.Release(ctx); err != nil || !ok {
				return fmt.Errorf("client %d: release of held permits returned %v, %v", i, ok, err)
			}
		}
		return nil
	})
	x, _, err := workers[0].v.Get(ctx)
	require.NoError(t, err)
	require.Equal(t, int(exclusive.Load()), x, "updates made while holding every permit were lost")
	expect(t, semLimit)(workers[0].s.Available(ctx))
}

func requireSemaphoreClosed(t *testing.T, ctx context.Context, s semaphore.Semaphore) {
	t.Helper()
	requireClosedErrors(t, map[string]error{
		"Acquire":    errOf(s.Acquire(ctx)),
		"TryAcquire": errOf3(s.TryAcquire(ctx)),
		"Release":    errOf(s.Release(ctx)),
		"Available":  errOf(s.Available(ctx)),
	})
	require.True(t, isDone(s.Lost()), "Lost of a closed instance")
}
