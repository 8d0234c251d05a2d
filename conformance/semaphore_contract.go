package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/driver"
)

// openDriverSemaphore opens semaphore name with limit permits on d, which
// must implement driver.SemaphoreOpener; closed when the subtest ends.
func (e *env) openDriverSemaphore(d driver.Driver, name string, limit int) driver.Semaphore {
	e.t.Helper()
	so, ok := d.(driver.SemaphoreOpener)
	require.True(e.t, ok, "the driver %T does not implement driver.SemaphoreOpener: implement it, or declare the %q gap", d, FeatureSemaphore)
	s, err := so.OpenSemaphore(e.ctx, e.id(name), limit)
	require.NoError(e.t, err, "OpenSemaphore")
	e.t.Cleanup(func() { _ = s.Close(e.ctx) })
	return s
}

// testSemaphoreHolds: semaphore acquisitions are identified by owner and
// version; a release by the wrong owner or version releases nothing; Gone
// closes when an acquisition ends, by Release or with its session; a second
// Close returns nil and a closed semaphore says ErrClosed.
func testSemaphoreHolds(t *testing.T, e *env) {
	skipIfGap(t, e.h, FeatureSemaphore)
	ctx := e.ctx
	d := e.driver()
	s := e.session(d)
	sem := e.openDriverSemaphore(d, "s", 2)

	ha, err := sem.Acquire(ctx, s, "a", 1)
	require.NoError(t, err, "Acquire by a")
	require.NotZero(t, ha.Version)
	hb, ok, err := sem.TryAcquire(ctx, s, "b", 1)
	require.NoError(t, err)
	require.True(t, ok, "TryAcquire of the second permit")
	require.Greater(t, hb.Version, ha.Version, "fencing versions increase")
	_, ok, err = sem.TryAcquire(ctx, s, "c", 1)
	require.NoError(t, err)
	require.False(t, ok, "TryAcquire with no permit free")
	expect(t, 0)(sem.Available(ctx))

	expect(t, false, "Release by an owner that does not hold")(sem.Release(ctx, "c", ha.Version))
	expect(t, false, "Release with another owner's version")(sem.Release(ctx, "a", hb.Version))
	require.False(t, isDone(ha.Gone), "Gone closed after releases that released nothing")
	expect(t, true, "Release by the holder")(sem.Release(ctx, "a", ha.Version))
	requireDoneWithin(t, ha.Gone, e.event, "Gone after Release")
	expect(t, false, "Release of an acquisition that already ended")(sem.Release(ctx, "a", ha.Version))
	expect(t, 1)(sem.Available(ctx))

	require.NoError(t, s.Close(ctx))
	requireDoneWithin(t, hb.Gone, e.event, "Gone after the session was closed")
	expect(t, 2, "the permits of a closed session are given back")(sem.Available(ctx))

	require.NoError(t, sem.Close(ctx), "first Close")
	require.NoError(t, sem.Close(ctx), "second Close")
	_, err = sem.Available(ctx)
	require.ErrorIs(t, err, driver.ErrClosed, "Available after Close")
}
