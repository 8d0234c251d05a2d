package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/driver"
)

// testFenceIsChecked is the driver tier of fenced writes: the backend
// itself refuses a write whose fence names a hold that ended, even though
// the caller (unlike the portable layer, which also checks what it knows)
// still believes in it.
func testFenceIsChecked(t *testing.T, e *env) {
	skipIfGap(t, e.h, FeatureFenced)
	d := e.driver()
	s := e.session(d)
	l, err := d.OpenLock(e.ctx, e.id("l"))
	require.NoError(t, err)
	defer l.Close(e.ctx)
	m, err := d.OpenMap(e.ctx, e.id("m"))
	require.NoError(t, err)
	defer m.Close(e.ctx)
	v, err := d.OpenValue(e.ctx, e.id("v"))
	require.NoError(t, err)
	defer v.Close(e.ctx)
	cm, ok := m.(driver.ConditionalMap)
	require.True(t, ok, "the driver's Map must implement driver.ConditionalMap (or declare the %q gap)", FeatureFenced)
	cv, ok := v.(driver.ConditionalValue)
	require.True(t, ok, "the driver's Value must implement driver.ConditionalValue (or declare the %q gap)", FeatureFenced)

	h, err := l.Acquire(e.ctx, s, "a")
	require.NoError(t, err)
	w := driver.Write{Fence: &driver.Fence{Lock: e.id("l"), Owner: "a", Version: h.Version}}
	_, err = cm.WriteWith(e.ctx, driver.MapPut, "k", []byte("held"), w)
	require.NoError(t, err, "a write fenced by the live hold")
	_, err = cv.SetWith(e.ctx, []byte("held"), w)
	require.NoError(t, err, "a value write fenced by the live hold")
	wrong := driver.Write{Fence: &driver.Fence{Lock: e.id("l"), Owner: "a", Version: h.Version + 1}}
	_, err = cm.WriteWith(e.ctx, driver.MapPut, "k", []byte("wrong"), wrong)
	require.ErrorIs(t, err, driver.ErrConflict, "a write fenced by a version the lock is not held with")
	other := driver.Write{Fence: &driver.Fence{Lock: e.id("other"), Owner: "a", Version: h.Version}}
	_, err = cm.WriteWith(e.ctx, driver.MapPut, "k", []byte("other"), other)
	require.ErrorIs(t, err, driver.ErrConflict, "a write fenced by a lock nobody holds")

	// The hold ends on the backend: with its session, then taken by b.
	require.NoError(t, s.Close(e.ctx))
	requireDoneWithin(t, h.Gone, e.event, "Gone after the session was closed")
	h2, ok, err := l.TryAcquire(e.ctx, e.session(d), "b")
	require.NoError(t, err)
	require.True(t, ok)
	for _, op := range []driver.MapOp{driver.MapPut, driver.MapInsert, driver.MapUpdate, driver.MapRemove} {
		key := "k"
		if op == driver.MapInsert {
			key = "new"
		}
		var val []byte
		if op != driver.MapRemove {
			val = []byte("late")
		}
		_, err = cm.WriteWith(e.ctx, op, key, val, w)
		require.ErrorIs(t, err, driver.ErrConflict, "map write %d fenced by a hold that ended", op)
	}
	_, err = cv.SetWith(e.ctx, []byte("late"), w)
	require.ErrorIs(t, err, driver.ErrConflict, "Value.SetWith fenced by a hold that ended")
	require.ErrorIs(t, cv.DeleteWith(e.ctx, w), driver.ErrConflict, "Value.DeleteWith fenced by a hold that ended")
	got, err := m.Get(e.ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "held", string(got.Value), "a refused fenced write changes nothing")
	_, err = m.Get(e.ctx, "new")
	require.ErrorIs(t, err, driver.ErrNotFound)
	b, _, err := v.Get(e.ctx)
	require.NoError(t, err)
	require.Equal(t, "held", string(b))

	w2 := driver.Write{Fence: &driver.Fence{Lock: e.id("l"), Owner: "b", Version: h2.Version}}
	_, err = cm.WriteWith(e.ctx, driver.MapRemove, "k", nil, w2)
	require.NoError(t, err, "a removal fenced by the new hold")
	require.NoError(t, cv.DeleteWith(e.ctx, w2), "a value delete fenced by the new hold")
	_, err = l.Release(e.ctx, "b", h2.Version)
	require.NoError(t, err)
}
