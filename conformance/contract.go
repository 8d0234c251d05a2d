package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/driver"
)

// testDriverContract is the driver tier: what the driver contract promises
// that the public API cannot see.
func testDriverContract(t *testing.T, h Harness) {
	parallel(t, "Identity", h, testDriverIdentity)
	parallel(t, "CloseIsIdempotent", h, testCloseIsIdempotent)
	parallel(t, "FailedWatchLeavesChannel", h, testFailedWatchLeavesChannel)
	parallel(t, "LockHolds", h, testLockHolds)
	parallel(t, "LockWaiterWithdraws", h, testLockWaiterWithdraws)
	parallel(t, "LockGoneWithSession", h, testLockGoneWithSession)
	parallel(t, "SemaphoreHolds", h, testSemaphoreHolds)
	parallel(t, "FenceIsChecked", h, testFenceIsChecked)
	parallel(t, "EphemeralFailedWrite", h, testEphemeralFailedWrite)
}

// id returns an ID in the subtest's namespace.
func (e *env) id(name string) driver.ID { return driver.ID{Namespace: e.ns, Name: name} }

// session starts a session on d, closed when the subtest ends. It is not
// expected to expire (see stableSessionTTL).
func (e *env) session(d driver.Driver) driver.Session {
	e.t.Helper()
	s, err := d.NewSession(e.ctx, driver.SessionOptions{TTL: max(e.h.SessionTTL, stableSessionTTL)})
	require.NoError(e.t, err, "NewSession")
	e.t.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

func testDriverIdentity(t *testing.T, e *env) {
	d := e.driver()
	require.NotEmpty(t, d.Name(), "Driver.Name")
	var notAClient struct{ unrelated int }
	require.False(t, d.As(&notAClient), "Driver.As of an unrelated type must report false")
	require.NoError(t, d.Ping(e.ctx), "Driver.Ping")
}

// testCloseIsIdempotent: a second Close of a primitive, a session and the
// driver returns nil; a primitive used after Close returns ErrClosed.
func testCloseIsIdempotent(t *testing.T, e *env) {
	d := e.driver()
	ctx := e.ctx
	open := map[string]func() (driver.Closer, error){
		"counter":    func() (driver.Closer, error) { return d.OpenCounter(ctx, e.id("c")) },
		"lock":       func() (driver.Closer, error) { return d.OpenLock(ctx, e.id("l")) },
		"election":   func() (driver.Closer, error) { return d.OpenElection(ctx, e.id("e")) },
		"map":        func() (driver.Closer, error) { return d.OpenMap(ctx, e.id("m")) },
		"set":        func() (driver.Closer, error) { return d.OpenSet(ctx, e.id("s")) },
		"value":      func() (driver.Closer, error) { return d.OpenValue(ctx, e.id("v")) },
		"list":       func() (driver.Closer, error) { return d.OpenList(ctx, e.id("li")) },
		"indexedmap": func() (driver.Closer, error) { return d.OpenIndexedMap(ctx, e.id("im")) },
	}
	for kind, o := range open {
		p, err := o()
		require.NoError(t, err, "open %s", kind)
		require.NoError(t, p.Close(ctx), "first Close of a %s", kind)
		require.NoError(t, p.Close(ctx), "second Close of a %s", kind)
	}
	m, err := d.OpenMap(ctx, e.id("m2"))
	require.NoError(t, err)
	require.NoError(t, m.Close(ctx))
	_, err = m.Get(ctx, "k")
	require.ErrorIs(t, err, driver.ErrClosed, "Map.Get after Close")

	s := e.session(d)
	require.NoError(t, s.Close(ctx), "first Close of a session")
	requireDoneWithin(t, s.Done(), e.event, "Session.Done after Close")
	require.NoError(t, s.Close(ctx), "second Close of a session")

	require.NoError(t, d.Close(ctx), "first Close of the driver")
	require.NoError(t, d.Close(ctx), "second Close of the driver")
	_, err = d.OpenMap(ctx, e.id("m3"))
	require.ErrorIs(t, err, driver.ErrClosed, "OpenMap after the driver's Close")
}

// testFailedWatchLeavesChannel: a Watch that returns an error neither sends
// on nor closes ch.
func testFailedWatchLeavesChannel(t *testing.T, e *env) {
	d := e.driver()
	m, err := d.OpenMap(e.ctx, e.id("m"))
	require.NoError(t, err)
	require.NoError(t, m.Close(e.ctx))
	ch := make(chan driver.EntryEvent, 1)
	require.Error(t, m.Watch(e.ctx, ch), "Watch on a closed map")
	select {
	case ev, ok := <-ch:
		require.FailNow(t, "a failed Watch touched its channel", "received %v, open %v", ev, ok)
	default:
	}
}

// testLockHolds: holds are identified by owner and version; releasing by
// owner, by version and a wrong release each do what the contract says,
// and Gone closes when a hold ends.
func testLockHolds(t *testing.T, e *env) {
	d := e.driver()
	s := e.session(d)
	l, err := d.OpenLock(e.ctx, e.id("l"))
	require.NoError(t, err)
	defer l.Close(e.ctx)

	h1, err := l.Acquire(e.ctx, s, "a")
	require.NoError(t, err, "Acquire by a")
	require.NotZero(t, h1.Version)
	require.False(t, isDone(h1.Gone), "Gone closed while held")

	_, ok, err := l.TryAcquire(e.ctx, s, "b")
	require.NoError(t, err)
	require.False(t, ok, "TryAcquire by b while a holds")
	v, held, err := l.Holder(e.ctx)
	require.NoError(t, err)
	require.True(t, held)
	require.Equal(t, h1.Version, v, "Holder")

	ok, err = l.Release(e.ctx, "b", h1.Version)
	require.NoError(t, err)
	require.False(t, ok, "Release by an owner that does not hold")
	ok, err = l.Release(e.ctx, "a", h1.Version+1)
	require.NoError(t, err)
	require.False(t, ok, "Release with a version that is not the hold's")
	ok, err = l.ReleaseVersion(e.ctx, h1.Version+1)
	require.NoError(t, err)
	require.False(t, ok, "ReleaseVersion of a version that is not held")
	require.False(t, isDone(h1.Gone), "Gone closed after releases that released nothing")

	ok, err = l.ReleaseVersion(e.ctx, h1.Version)
	require.NoError(t, err)
	require.True(t, ok, "ReleaseVersion of the hold's version")
	requireDoneWithin(t, h1.Gone, e.event, "Gone after ReleaseVersion")
	ok, err = l.Release(e.ctx, "a", h1.Version)
	require.NoError(t, err)
	require.False(t, ok, "Release of a hold that already ended")

	h2, ok, err := l.TryAcquire(e.ctx, s, "b")
	require.NoError(t, err)
	require.True(t, ok, "TryAcquire of a free lock")
	require.Greater(t, h2.Version, h1.Version, "fencing versions increase")
	ok, err = l.Release(e.ctx, "b", h2.Version)
	require.NoError(t, err)
	require.True(t, ok, "Release by the holder")
	requireDoneWithin(t, h2.Gone, e.event, "Gone after Release")
	_, held, err = l.Holder(e.ctx)
	require.NoError(t, err)
	require.False(t, held, "Holder after Release")
}

// testLockWaiterWithdraws: a waiter whose context ends leaves nothing
// behind: when the holder releases, a newcomer gets the lock at once.
func testLockWaiterWithdraws(t *testing.T, e *env) {
	d := e.driver()
	s := e.session(d)
	l, err := d.OpenLock(e.ctx, e.id("l"))
	require.NoError(t, err)
	defer l.Close(e.ctx)

	h, err := l.Acquire(e.ctx, s, "holder")
	require.NoError(t, err)
	short, cancel := context.WithTimeout(e.ctx, e.quiet)
	defer cancel()
	_, err = l.Acquire(short, s, "waiter")
	require.ErrorIs(t, err, context.DeadlineExceeded, "Acquire whose context ended while waiting")
	ok, err := l.Release(e.ctx, "holder", h.Version)
	require.NoError(t, err)
	require.True(t, ok)
	h2, ok, err := l.TryAcquire(e.ctx, s, "newcomer")
	require.NoError(t, err)
	require.True(t, ok, "the withdrawn waiter must not have been granted the lock")
	_, err = l.Release(e.ctx, "newcomer", h2.Version)
	require.NoError(t, err)
}

// testLockGoneWithSession: closing the session a hold is bound to ends the
// hold on the backend and closes Gone.
func testLockGoneWithSession(t *testing.T, e *env) {
	d := e.driver()
	s := e.session(d)
	l, err := d.OpenLock(e.ctx, e.id("l"))
	require.NoError(t, err)
	defer l.Close(e.ctx)
	h, err := l.Acquire(e.ctx, s, "a")
	require.NoError(t, err)
	require.NoError(t, s.Close(e.ctx))
	requireDoneWithin(t, h.Gone, e.event, "Gone after the session was closed")

	other := e.session(d)
	h2, ok, err := l.TryAcquire(e.ctx, other, "b")
	require.NoError(t, err)
	require.True(t, ok, "the lock after its holder's session was closed")
	require.Greater(t, h2.Version, h.Version)
	_, err = l.Release(e.ctx, "b", h2.Version)
	require.NoError(t, err)
}

// isAny reports whether err matches any of targets.
func isAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
