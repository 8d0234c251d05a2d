package conformance

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/set"
	"github.com/atomix/go-client/atomix/value"
)

// testEphemeral checks session-bound entries: an ephemeral map entry or set
// element is removed, with an EventRemoved for watchers, when its writer's
// session ends. The crash case is in the SessionExpiry group.
func testEphemeral(t *testing.T, h Harness) {
	skipIfGap(t, h, FeatureEphemeral)
	parallel(t, "VanishOnClose", h, func(t *testing.T, e *env) {
		owner := e.client()
		other := e.client()
		m := openMap[string, string](e, owner, "m")
		s := openSet[string](e, owner, "s")
		mw := openMap[string, string](e, other, "m")
		sw := openSet[string](e, other, "s")
		mch := make(chan _map.Event[string, string], 16)
		sch := make(chan set.Event[string], 16)
		require.NoError(t, mw.Watch(e.ctx, mch))
		require.NoError(t, sw.Watch(e.ctx, sch))

		_, err := m.Put(e.ctx, "member", "a", _map.Ephemeral())
		require.NoError(t, err)
		_, err = m.Insert(e.ctx, "inserted", "b", _map.Ephemeral())
		require.NoError(t, err)
		_, err = m.Put(e.ctx, "updated", "c")
		require.NoError(t, err)
		_, err = m.Update(e.ctx, "updated", "c2", _map.Ephemeral())
		require.NoError(t, err)
		_, err = m.Put(e.ctx, "made-persistent", "e", _map.Ephemeral())
		require.NoError(t, err)
		_, err = m.Put(e.ctx, "made-persistent", "e2") // a plain write unbinds it
		require.NoError(t, err)
		_, err = mw.Put(e.ctx, "rebound", "f", _map.Ephemeral())
		require.NoError(t, err)
		_, err = m.Put(e.ctx, "rebound", "f2", _map.Ephemeral()) // now bound to owner's session
		require.NoError(t, err)
		_, err = m.Put(e.ctx, "persistent", "d")
		require.NoError(t, err)
		added, err := s.Add(e.ctx, "member", set.Ephemeral())
		require.NoError(t, err)
		require.True(t, added)
		expect(t, true)(s.Add(e.ctx, "persistent"))
		// The last write's event: a watch that merges states (Consul) may
		// have merged the others into it.
		for ev := recv(t, mch, e.event, "the map's writes"); ev.Entry.Key != "persistent"; {
			ev = recv(t, mch, e.event, "the map's writes")
		}
		for ev := recv(t, sch, e.event, "the set's adds"); ev.Element != "persistent"; {
			ev = recv(t, sch, e.event, "the set's adds")
		}

		require.NoError(t, owner.Close(e.ctx))
		removed := map[string]bool{}
		for len(removed) < 4 {
			ev := recv(t, mch, e.event, "EventRemoved of the ephemeral entries once their client closed")
			require.Equal(t, _map.EventRemoved, ev.Type, "event %+v", ev)
			removed[ev.Entry.Key] = true
		}
		require.Equal(t, map[string]bool{"member": true, "inserted": true, "updated": true, "rebound": true}, removed)
		sev := recv(t, sch, e.event, "EventRemoved of the ephemeral element once its client closed")
		require.Equal(t, set.Event[string]{Type: set.EventRemoved, Element: "member"}, sev)

		_, err = mw.Get(e.ctx, "member")
		require.ErrorIs(t, err, atomix.ErrNotFound)
		got, err := mw.Get(e.ctx, "made-persistent")
		require.NoError(t, err, "an ephemeral entry made persistent by a plain write")
		require.Equal(t, "e2", got.Value)
		expect(t, 2)(mw.Len(e.ctx))
		expect(t, false)(sw.Contains(e.ctx, "member"))
		expect(t, true)(sw.Contains(e.ctx, "persistent"))
	})
	parallel(t, "Options", h, func(t *testing.T, e *env) {
		m := openMap[string, string](e, e.client(), "m")
		_, err := m.Remove(e.ctx, "k", _map.Ephemeral())
		require.ErrorIs(t, err, atomix.ErrInvalid, "Remove with Ephemeral")
		_, err = m.Insert(e.ctx, "k", "v", _map.IfVersion(1))
		require.ErrorIs(t, err, atomix.ErrInvalid, "Insert with IfVersion")
		// An ephemeral write keeps the other preconditions.
		en, err := m.Put(e.ctx, "k", "v")
		require.NoError(t, err)
		_, err = m.Put(e.ctx, "k", "w", _map.Ephemeral(), _map.IfVersion(en.Version+1000))
		require.ErrorIs(t, err, atomix.ErrConflict)
		_, err = m.Insert(e.ctx, "k", "w", _map.Ephemeral())
		require.ErrorIs(t, err, atomix.ErrAlreadyExists)
		_, err = m.Update(e.ctx, "absent", "w", _map.Ephemeral())
		require.ErrorIs(t, err, atomix.ErrNotFound)
	})
}

// testEphemeralOwnerVanishes: the ephemeral entries of a client that
// vanished are removed once its session expires, and watchers see it.
func testEphemeralOwnerVanishes(t *testing.T, e *env) {
	d := e.driver()
	owner := e.expiringClientOn(d, e.ns)
	m := openMap[string, string](e, owner, "m")
	s := openSet[string](e, owner, "s")
	other := e.client()
	mw := openMap[string, string](e, other, "m")
	sw := openSet[string](e, other, "s")
	mch := make(chan _map.Event[string, string], 16)
	sch := make(chan set.Event[string], 16)
	require.NoError(t, mw.Watch(e.ctx, mch))
	require.NoError(t, sw.Watch(e.ctx, sch))
	_, err := m.Put(e.ctx, "member", "a", _map.Ephemeral())
	require.NoError(t, err)
	expect(t, true)(s.Add(e.ctx, "member", set.Ephemeral()))
	recv(t, mch, e.event, "the ephemeral put")
	recv(t, sch, e.event, "the ephemeral add")

	crashed := time.Now()
	e.h.Crash(d)
	ev := recv(t, mch, e.expiry, "EventRemoved of an ephemeral entry once its vanished writer's session (TTL %v) expired", e.h.SessionTTL)
	require.Equal(t, _map.EventRemoved, ev.Type)
	require.Equal(t, "member", ev.Entry.Key)
	t.Logf("the entry was removed %v after its writer vanished (session TTL %v)", time.Since(crashed).Round(time.Millisecond), e.h.SessionTTL)
	sev := recv(t, sch, e.expiry, "EventRemoved of an ephemeral element once its vanished writer's session expired")
	require.Equal(t, set.Event[string]{Type: set.EventRemoved, Element: "member"}, sev)
	_, err = mw.Get(e.ctx, "member")
	require.ErrorIs(t, err, atomix.ErrNotFound)
	expect(t, false)(sw.Contains(e.ctx, "member"))
}

// testFenced checks fenced writes: applied while the lock is held with the
// version given, refused with ErrConflict once it is not, in the same
// atomic step; a lock of another client is ErrInvalid. The case of a holder
// cut off past its TTL is in the Faults group.
func testFenced(t *testing.T, h Harness) {
	skipIfGap(t, h, FeatureFenced)
	parallel(t, "AppliedWhileHeld", h, func(t *testing.T, e *env) {
		c := e.client()
		l := e.lock(c, "l")
		m := openMap[string, string](e, c, "m")
		val := openValue[string](e, c, "v")
		v := acquire(t, e.ctx, l, 0)
		_, err := m.Put(e.ctx, "k", "put", _map.Fenced(l, v))
		require.NoError(t, err, "fenced Put while held")
		_, err = m.Insert(e.ctx, "i", "insert", _map.Fenced(l, v))
		require.NoError(t, err, "fenced Insert while held")
		en, err := m.Update(e.ctx, "k", "update", _map.Fenced(l, v))
		require.NoError(t, err, "fenced Update while held")
		_, err = m.Update(e.ctx, "k", "stale", _map.Fenced(l, v), _map.IfVersion(en.Version+1000))
		require.ErrorIs(t, err, atomix.ErrConflict, "a fenced Update keeps its IfVersion")
		_, err = m.Remove(e.ctx, "i", _map.Fenced(l, v))
		require.NoError(t, err, "fenced Remove while held")
		_, err = val.Set(e.ctx, "set", value.Fenced(l, v))
		require.NoError(t, err, "fenced Value.Set while held")
		expect(t, 1)(m.Len(e.ctx))
		got, err := m.Get(e.ctx, "k")
		require.NoError(t, err)
		require.Equal(t, "update", got.Value)
		require.NoError(t, val.Delete(e.ctx, value.Fenced(l, v)), "fenced Value.Delete while held")
	})
	parallel(t, "RefusedOnceTheLockMovedOn", h, func(t *testing.T, e *env) {
		c := e.client()
		l := e.lock(c, "l")
		next := e.lock(e.client(), "l")
		m := openMap[string, string](e, c, "m")
		val := openValue[string](e, c, "v")
		v := acquire(t, e.ctx, l, 0)
		_, err := m.Put(e.ctx, "k", "first", _map.Fenced(l, v))
		require.NoError(t, err)
		_, err = val.Set(e.ctx, "first", value.Fenced(l, v))
		require.NoError(t, err)
		_, err = m.Put(e.ctx, "k", "wrong version", _map.Fenced(l, v+1))
		require.ErrorIs(t, err, atomix.ErrConflict, "fenced with a version the lock is not held with")

		expect(t, true)(l.Unlock(e.ctx))
		v2 := acquire(t, e.ctx, next, v)
		refused := func(what string, err error) {
			t.Helper()
			require.ErrorIs(t, err, atomix.ErrConflict, "%s fenced by a hold that ended", what)
		}
		refused("Map.Put", errOf(m.Put(e.ctx, "k", "late", _map.Fenced(l, v))))
		refused("Map.Insert", errOf(m.Insert(e.ctx, "new", "late", _map.Fenced(l, v))))
		refused("Map.Update", errOf(m.Update(e.ctx, "k", "late", _map.Fenced(l, v))))
		refused("Map.Remove", errOf(m.Remove(e.ctx, "k", _map.Fenced(l, v))))
		refused("Value.Set", errOf(val.Set(e.ctx, "late", value.Fenced(l, v))))
		refused("Value.Delete", val.Delete(e.ctx, value.Fenced(l, v)))
		got, err := m.Get(e.ctx, "k")
		require.NoError(t, err)
		require.Equal(t, "first", got.Value, "a refused fenced write changes nothing")
		expect(t, 1)(m.Len(e.ctx))
		s, _, err := val.Get(e.ctx)
		require.NoError(t, err)
		require.Equal(t, "first", s)
		expect(t, true)(next.IsLocked(e.ctx, lock.WithVersion(v2)))
	})
	parallel(t, "NewHolderAccepted", h, func(t *testing.T, e *env) {
		c := e.client()
		a := e.lock(c, "l")
		b := e.lock(c, "l")
		m := openMap[string, string](e, c, "m")
		va := acquire(t, e.ctx, a, 0)
		expect(t, true)(a.Unlock(e.ctx))
		vb := acquire(t, e.ctx, b, va)
		_, err := m.Put(e.ctx, "k", "b", _map.Fenced(b, vb))
		require.NoError(t, err, "fenced by the current hold")
		_, err = m.Put(e.ctx, "k", "a", _map.Fenced(a, va))
		require.ErrorIs(t, err, atomix.ErrConflict, "fenced by the previous hold")
		_, err = m.Put(e.ctx, "k", "a", _map.Fenced(a, vb))
		require.ErrorIs(t, err, atomix.ErrConflict, "the current version through an instance that does not hold it")
	})
	parallel(t, "LockOfAnotherClient", h, func(t *testing.T, e *env) {
		l := e.lock(e.client(), "l")
		m := openMap[string, string](e, e.client(), "m")
		val := openValue[string](e, e.client(), "v")
		v := acquire(t, e.ctx, l, 0)
		_, err := m.Put(e.ctx, "k", "v", _map.Fenced(l, v))
		require.ErrorIs(t, err, atomix.ErrInvalid, "a fence lock of another client")
		_, err = val.Set(e.ctx, "v", value.Fenced(l, v))
		require.ErrorIs(t, err, atomix.ErrInvalid, "a fence lock of another client")
		_, err = m.Put(e.ctx, "k", "v", _map.Fenced(nil, v))
		require.ErrorIs(t, err, atomix.ErrInvalid, "a nil fence lock")
		expect(t, 0)(m.Len(e.ctx))
	})
}

// testFencedHolderCutOff: a holder cut off from the backend past its
// session TTL loses the lock to another client; when its connection comes
// back, its late fenced write is refused.
func testFencedHolderCutOff(t *testing.T, e *env) {
	skipIfGap(t, e.h, FeatureFenced)
	p, d := e.proxied()
	cut := e.expiringClientOn(d, e.ns)
	l := e.lock(cut, "l")
	m := openMap[string, string](e, cut, "m")
	v := acquire(t, e.ctx, l, 0)
	_, err := m.Put(e.ctx, "k", "before", _map.Fenced(l, v))
	require.NoError(t, err)

	other := e.client()
	next := e.lock(other, "l")
	res := lockAsync(e.ctx, next)
	p.Blackhole(true)
	r := await(t, res, e.expiry, "the lock of a holder cut off must go to the next once its session (TTL %v) expires", e.h.SessionTTL)
	require.NoError(t, r.err)
	require.Greater(t, r.val, v)
	p.Blackhole(false)
	p.Cut() // the old connections are dead: the driver reconnects

	// The late write: retried while the connection comes back, it must be
	// refused by the fence, never applied.
	deadline := time.Now().Add(e.expiry)
	for {
		_, err = m.Put(e.ctx, "k", "late", _map.Fenced(l, v))
		if errors.Is(err, atomix.ErrConflict) || err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.ErrorIs(t, err, atomix.ErrConflict, "the late fenced write of a holder cut off past its TTL")
	got, err := openMap[string, string](e, other, "m").Get(e.ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "before", got.Value)
}
