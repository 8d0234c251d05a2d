package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/atomix/value"
)

func testValue(t *testing.T, h Harness) {
	skipIfGap(t, h, FeatureValue)
	parallel(t, "Operations", h, testValueOperations)
	parallel(t, "ConcurrentCompareAndSet", h, testValueConcurrentCompareAndSet)
	parallel(t, "Watch", h, testValueWatch)
	runWatchEveryChange(t, h, valueWatchSpec())
	t.Run("WatchIsolation", func(t *testing.T) { testWatchIsolation(t, h, valueWatchSpec()) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, h, valueKind) })
	parallel(t, "InvalidName", h, func(t *testing.T, e *env) {
		_, err := atomix.GetValue[string](e.ctx, "", atomix.WithClient(e.client()))
		require.ErrorIs(t, err, atomix.ErrInvalid)
	})
	parallel(t, "WrongCodec", h, func(t *testing.T, e *env) {
		_, err := atomix.GetValue[int](e.ctx, "v", atomix.WithClient(e.client()), value.WithType(generic.String()))
		require.ErrorIs(t, err, atomix.ErrInvalid, "a string codec for an int value")
	})
	parallel(t, "TooLarge", h, func(t *testing.T, e *env) {
		limit := e.limits().MaxValueSize
		big, ok := oversize(t, limit)
		if !ok {
			t.Skip("the driver reports no usable MaxValueSize")
		}
		v := openValue[[]byte](e, e.client(), "v")
		require.ErrorIs(t, errOf(v.Set(e.ctx, make([]byte, big))), atomix.ErrInvalid, "Set of a value over MaxValueSize")
		require.ErrorIs(t, errOf3(v.Get(e.ctx)), atomix.ErrNotFound, "a rejected Set stores nothing")
		if limit <= atLimitCheck {
			_, err := v.Set(e.ctx, make([]byte, limit))
			require.NoError(t, err, "Set of a value of exactly MaxValueSize")
		}
	})
	parallel(t, "Closed", h, func(t *testing.T, e *env) {
		v := openValue[string](e, e.client(), "v")
		require.NoError(t, v.Close(e.ctx))
		requireValueClosed(t, e.ctx, v)
		requireCloseAgain(t, v.Close(e.ctx))
	})
	parallel(t, "ClientClosed", h, func(t *testing.T, e *env) {
		c := e.client()
		v := openValue[string](e, c, "v")
		require.NoError(t, c.Close(e.ctx))
		requireValueClosed(t, e.ctx, v)
		_, err := atomix.GetValue[string](e.ctx, "v", atomix.WithClient(c))
		require.ErrorIs(t, err, atomix.ErrClosed, "GetValue on a closed client")
	})
}

// openValue opens value name through c, failing the test if it cannot.
func openValue[V any](e *env, c *atomix.Client, name string, opts ...primitive.Option) value.Value[V] {
	e.t.Helper()
	v, err := atomix.GetValue[V](e.ctx, name, append([]primitive.Option{atomix.WithClient(c)}, opts...)...)
	require.NoError(e.t, err, "GetValue %q", name)
	require.Equal(e.t, name, v.Name())
	return v
}

// requireValue fails t unless v holds want at version.
func requireValue[V any](t testing.TB, ctx context.Context, v value.Value[V], want V, version uint64, msgAndArgs ...any) {
	t.Helper()
	got, gotVersion, err := v.Get(ctx)
	require.NoError(t, err, msgAndArgs...)
	require.Equal(t, want, got, msgAndArgs...)
	require.Equal(t, version, gotVersion, msgAndArgs...)
}

func testValueOperations(t *testing.T, e *env) {
	ctx := e.ctx
	a := openValue[string](e, e.client(), "v")
	b := openValue[string](e, e.client(), "v")
	versions := versionTracker{t: t}
	written := func(version uint64, err error) uint64 {
		t.Helper()
		require.NoError(t, err)
		versions.next(version, "value write")
		return version
	}
	require.ErrorIs(t, errOf3(a.Get(ctx)), atomix.ErrNotFound, "a value never set")
	require.ErrorIs(t, errOf(a.Set(ctx, "x", value.IfVersion(1))), atomix.ErrConflict, "Set IfVersion of an absent value")
	require.ErrorIs(t, a.Delete(ctx), atomix.ErrNotFound, "Delete of an absent value")
	v1 := written(a.Set(ctx, "one"))
	requireValue(t, ctx, b, "one", v1, "the other client reads the write")
	v2 := written(b.Set(ctx, "two"))
	require.ErrorIs(t, errOf(a.Set(ctx, "x", value.IfVersion(v1))), atomix.ErrConflict, "Set with an old version")
	requireValue(t, ctx, a, "two", v2, "a failed Set changes nothing")
	v3 := written(a.Set(ctx, "three", value.IfVersion(v2)))
	requireValue(t, ctx, b, "three", v3)
	require.ErrorIs(t, b.Delete(ctx, value.IfVersion(v2)), atomix.ErrConflict, "Delete with an old version")
	requireValue(t, ctx, b, "three", v3, "a failed Delete changes nothing")
	require.NoError(t, b.Delete(ctx, value.IfVersion(v3)))
	require.ErrorIs(t, errOf3(a.Get(ctx)), atomix.ErrNotFound, "a deleted value")
	require.ErrorIs(t, a.Delete(ctx), atomix.ErrNotFound, "Delete of a deleted value")
	v4 := written(a.Set(ctx, "again")) // versions increase across Delete
	require.NoError(t, a.Delete(ctx))
	written(b.Set(ctx, ""))
	empty, _, err := a.Get(ctx)
	require.NoError(t, err, "an empty string is a value, not an absent one")
	require.Empty(t, empty)
	require.Greater(t, versions.last, v4)

	structs := openValue[point](e, e.client(), "structs")
	p := point{X: 3, Y: 4, Label: "q"}
	pv, err := structs.Set(ctx, p)
	require.NoError(t, err)
	requireValue(t, ctx, openValue[point](e, e.client(), "structs"), p, pv)
}

func testValueConcurrentCompareAndSet(t *testing.T, e *env) {
	ctx := e.ctx
	_, err := openValue[int](e, e.client(), "v").Set(ctx, 0)
	require.NoError(t, err)
	values := make([]value.Value[int], casClients)
	for i := range values {
		values[i] = openValue[int](e, e.client(), "v")
	}
	concurrently(t, casClients, func(i int) error {
		v := values[i]
		return casLoop(ctx, casIncrements, func() (bool, error) {
			n, version, err := v.Get(ctx)
			if err != nil {
				return false, err
			}
			_, err = v.Set(ctx, n+1, value.IfVersion(version))
			if errors.Is(err, atomix.ErrConflict) {
				return false, nil
			}
			return err == nil, err
		})
	})
	n, _, err := values[0].Get(ctx)
	require.NoError(t, err)
	require.Equal(t, casClients*casIncrements, n, "every compare-and-set increment counted once")
}

func testValueWatch(t *testing.T, e *env) {
	ctx := e.ctx
	a := openValue[string](e, e.client(), "v")
	b := openValue[string](e, e.client(), "v")
	_, err := a.Set(ctx, "before the watch")
	require.NoError(t, err)
	require.NoError(t, a.Delete(ctx))
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan valueEvent)
	require.NoError(t, b.Watch(wctx, ch))
	v1, err := a.Set(ctx, "one")
	require.NoError(t, err)
	require.Equal(t, valueEvent{Type: value.EventCreated, Value: "one", Version: v1}, recv(t, ch, e.event))
	v2, err := b.Set(ctx, "two") // through the watching instance
	require.NoError(t, err)
	require.Equal(t, valueEvent{Type: value.EventUpdated, Value: "two", Version: v2}, recv(t, ch, e.event))
	require.NoError(t, a.Delete(ctx))
	require.Equal(t, valueEvent{Type: value.EventDeleted, Value: "two", Version: v2}, recv(t, ch, e.event),
		"a deletion reports the value and version it had")
	v3, err := a.Set(ctx, "three")
	require.NoError(t, err)
	require.Equal(t, valueEvent{Type: value.EventCreated, Value: "three", Version: v3}, recv(t, ch, e.event))
	cancel()
	requireChanClosed(t, ch, e.event)
}

func requireValueClosed(t *testing.T, ctx context.Context, v value.Value[string]) {
	t.Helper()
	requireClosedErrors(t, map[string]error{
		"Set":    errOf(v.Set(ctx, "x")),
		"Get":    errOf3(v.Get(ctx)),
		"Delete": v.Delete(ctx),
		"Watch":  v.Watch(ctx, make(chan valueEvent)),
	})
}
