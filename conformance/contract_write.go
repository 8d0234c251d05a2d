package conformance

import (
	"testing"
	"time"

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

// testEphemeralFailedWrite: an ephemeral write that fails (its
// precondition did not hold) binds nothing, and in particular does not end
// the session: the session still lives two TTLs later, and a successful
// ephemeral write then is removed when the session is closed.
func testEphemeralFailedWrite(t *testing.T, e *env) {
	skipIfGap(t, e.h, FeatureEphemeral)
	d := e.driver()
	s, err := d.NewSession(e.ctx, driver.SessionOptions{TTL: e.h.SessionTTL})
	require.NoError(t, err)
	defer s.Close(e.ctx)
	m, err := d.OpenMap(e.ctx, e.id("m"))
	require.NoError(t, err)
	defer m.Close(e.ctx)
	cm, ok := m.(driver.ConditionalMap)
	require.True(t, ok, "the driver's Map must implement driver.ConditionalMap (or declare the %q gap)", FeatureEphemeral)
	st, err := d.OpenSet(e.ctx, e.id("s"))
	require.NoError(t, err)
	defer st.Close(e.ctx)
	cs, ok := st.(driver.ConditionalSet)
	require.True(t, ok, "the driver's Set must implement driver.ConditionalSet (or declare the %q gap)", FeatureEphemeral)

	en, err := m.Put(e.ctx, "k", []byte("persistent"), 0)
	require.NoError(t, err)
	_, err = cm.WriteWith(e.ctx, driver.MapInsert, "k", []byte("x"), driver.Write{Session: s})
	require.ErrorIs(t, err, driver.ErrAlreadyExists)
	_, err = cm.WriteWith(e.ctx, driver.MapPut, "k", []byte("x"), driver.Write{Session: s, IfVersion: en.Version + 1000})
	require.ErrorIs(t, err, driver.ErrConflict)
	_, err = cm.WriteWith(e.ctx, driver.MapUpdate, "absent", []byte("x"), driver.Write{Session: s})
	require.ErrorIs(t, err, driver.ErrNotFound)
	added, err := st.Add(e.ctx, "e")
	require.NoError(t, err)
	require.True(t, added)
	added, err = cs.AddWith(e.ctx, "e", driver.Write{Session: s})
	require.NoError(t, err)
	require.False(t, added, "AddWith of an element already present")

	select {
	case <-s.Done():
		require.FailNow(t, "the session ended after ephemeral writes that bound nothing")
	case <-time.After(2 * e.h.SessionTTL):
	}
	_, err = cm.WriteWith(e.ctx, driver.MapPut, "eph", []byte("x"), driver.Write{Session: s})
	require.NoError(t, err)
	require.NoError(t, s.Close(e.ctx))
	_, err = m.Get(e.ctx, "eph")
	require.ErrorIs(t, err, driver.ErrNotFound, "an ephemeral entry after its session was closed")
	got, err := m.Get(e.ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "persistent", string(got.Value))
	contains, err := st.Contains(e.ctx, "e")
	require.NoError(t, err)
	require.True(t, contains, "an element added without a session stays")
}
