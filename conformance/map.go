package conformance

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/generic"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/primitive"
)

func testMap(t *testing.T, h Harness) {
	skipIfGap(t, h, FeatureMap)
	parallel(t, "Operations", h, testMapOperations)
	parallel(t, "Keys", h, testMapKeys)
	parallel(t, "Codecs", h, testMapCodecs)
	parallel(t, "Iteration", h, testMapIteration)
	parallel(t, "ConcurrentCompareAndSet", h, testMapConcurrentCompareAndSet)
	parallel(t, "Watch", h, testMapWatch)
	runWatchEveryChange(t, h, mapWatchSpec())
	t.Run("WatchIsolation", func(t *testing.T) { testWatchIsolation(t, h, mapWatchSpec()) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, h, mapKind) })
	parallel(t, "InvalidName", h, func(t *testing.T, e *env) {
		_, err := atomix.GetMap[string, string](e.ctx, "", atomix.WithClient(e.client()))
		require.ErrorIs(t, err, atomix.ErrInvalid)
	})
	parallel(t, "WrongCodec", h, testMapWrongCodec)
	parallel(t, "TooLarge", h, testMapTooLarge)
	parallel(t, "Closed", h, func(t *testing.T, e *env) {
		m := openMap[string, string](e, e.client(), "m")
		require.NoError(t, m.Close(e.ctx))
		requireMapClosed(t, e.ctx, m)
		requireCloseAgain(t, m.Close(e.ctx))
	})
	parallel(t, "ClientClosed", h, func(t *testing.T, e *env) {
		c := e.client()
		m := openMap[string, string](e, c, "m")
		require.NoError(t, c.Close(e.ctx))
		requireMapClosed(t, e.ctx, m)
		_, err := atomix.GetMap[string, string](e.ctx, "m", atomix.WithClient(c))
		require.ErrorIs(t, err, atomix.ErrClosed, "GetMap on a closed client")
	})
}

// openMap opens map name through c, failing the test if it cannot.
func openMap[K, V any](e *env, c *atomix.Client, name string, opts ...primitive.Option) _map.Map[K, V] {
	e.t.Helper()
	m, err := atomix.GetMap[K, V](e.ctx, name, append([]primitive.Option{atomix.WithClient(c)}, opts...)...)
	require.NoError(e.t, err, "GetMap %q", name)
	require.Equal(e.t, name, m.Name())
	return m
}

func testMapOperations(t *testing.T, e *env) {
	ctx := e.ctx
	a := openMap[string, string](e, e.client(), "m")
	b := openMap[string, string](e, e.client(), "m")
	versions := versionTracker{t: t}
	written := func(en _map.Entry[string, string], err error) _map.Entry[string, string] {
		t.Helper()
		require.NoError(t, err)
		versions.next(en.Version, "map write")
		return en
	}

	require.ErrorIs(t, errOf(a.Get(ctx, "k")), atomix.ErrNotFound)
	expect(t, 0)(a.Len(ctx))
	e1 := written(a.Put(ctx, "k", "v1"))
	require.Equal(t, "k", e1.Key)
	require.Equal(t, "v1", e1.Value)
	expect(t, e1, "the other client reads the write")(b.Get(ctx, "k"))
	e2 := written(b.Put(ctx, "k", "v2"))
	require.Equal(t, "v2", e2.Value)

	require.ErrorIs(t, errOf(a.Put(ctx, "k", "x", _map.IfVersion(e1.Version))), atomix.ErrConflict, "Put with an old version")
	expect(t, e2)(a.Get(ctx, "k"))
	e3 := written(a.Put(ctx, "k", "v3", _map.IfVersion(e2.Version)))
	require.ErrorIs(t, errOf(a.Put(ctx, "absent", "x", _map.IfVersion(e3.Version))), atomix.ErrConflict, "Put IfVersion of an absent key")
	require.ErrorIs(t, errOf(b.Get(ctx, "absent")), atomix.ErrNotFound)

	require.ErrorIs(t, errOf(a.Update(ctx, "absent", "x")), atomix.ErrNotFound)
	require.ErrorIs(t, errOf(a.Update(ctx, "k", "x", _map.IfVersion(e2.Version))), atomix.ErrConflict)
	e4 := written(a.Update(ctx, "k", "v4"))
	e5 := written(b.Update(ctx, "k", "v5", _map.IfVersion(e4.Version)))
	expect(t, e5)(a.Get(ctx, "k"))

	require.ErrorIs(t, errOf(a.Insert(ctx, "k", "x")), atomix.ErrAlreadyExists)
	expect(t, e5, "a failed Insert changes nothing")(a.Get(ctx, "k"))
	j := written(a.Insert(ctx, "j", "w"))
	expect(t, j)(b.Get(ctx, "j"))
	expect(t, 2)(b.Len(ctx))

	require.ErrorIs(t, errOf(a.Remove(ctx, "absent")), atomix.ErrNotFound)
	require.ErrorIs(t, errOf(a.Remove(ctx, "k", _map.IfVersion(e4.Version))), atomix.ErrConflict)
	expect(t, e5, "Remove returns the removed entry")(a.Remove(ctx, "k", _map.IfVersion(e5.Version)))
	require.ErrorIs(t, errOf(b.Get(ctx, "k")), atomix.ErrNotFound)
	expect(t, j)(b.Remove(ctx, "j"))
	expect(t, 0)(a.Len(ctx))

	written(a.Put(ctx, "k", "recreated")) // versions increase across delete and recreate
	written(a.Put(ctx, "x", "1"))
	written(a.Put(ctx, "y", "2"))
	expect(t, 3)(b.Len(ctx))
	require.NoError(t, b.Clear(ctx))
	expect(t, 0)(a.Len(ctx))
	require.ErrorIs(t, errOf(a.Get(ctx, "x")), atomix.ErrNotFound)
	require.Empty(t, iterate(t, a.Entries(ctx)))
	written(a.Put(ctx, "x", "after clear")) // and across Clear
	require.NoError(t, a.Clear(ctx))
	require.NoError(t, a.Clear(ctx), "clearing an empty map")
}

func testMapKeys(t *testing.T, e *env) {
	ctx := e.ctx
	a := openMap[string, string](e, e.client(), "m")
	b := openMap[string, string](e, e.client(), "m")
	for _, k := range oddKeys {
		written, err := a.Put(ctx, k, "value of "+k)
		require.NoError(t, err, "Put %q", k)
		require.Equal(t, k, written.Key)
	}
	expect(t, len(oddKeys))(b.Len(ctx))
	for _, k := range oddKeys {
		en, err := b.Get(ctx, k)
		require.NoError(t, err, "Get %q", k)
		require.Equal(t, "value of "+k, en.Value, "Get %q", k)
	}
	keys := iterate(t, b.Keys(ctx))
	require.ElementsMatch(t, oddKeys, keys)
	for _, k := range oddKeys {
		en, err := a.Remove(ctx, k)
		require.NoError(t, err, "Remove %q", k)
		require.Equal(t, k, en.Key)
		require.Equal(t, "value of "+k, en.Value)
	}
	expect(t, 0)(b.Len(ctx))
}

func testMapCodecs(t *testing.T, e *env) {
	ctx := e.ctx
	c := e.client()
	structs := openMap[string, point](e, c, "structs")
	p := point{X: 1, Y: -2, Label: "p"}
	written, err := structs.Put(ctx, "p", p)
	require.NoError(t, err)
	require.Equal(t, p, written.Value)
	expect(t, written)(openMap[string, point](e, e.client(), "structs").Get(ctx, "p"))

	raw := openMap[string, []byte](e, c, "bytes", _map.WithKeyType(generic.String()), _map.WithValueType(generic.Bytes()))
	bin := []byte{0, 1, 0xfe, 0xff, '\n'}
	_, err = raw.Put(ctx, "b", bin)
	require.NoError(t, err)
	got, err := raw.Get(ctx, "b")
	require.NoError(t, err)
	require.Equal(t, bin, got.Value)
	_, err = raw.Put(ctx, "empty", []byte{})
	require.NoError(t, err)
	got, err = raw.Get(ctx, "empty")
	require.NoError(t, err)
	require.Empty(t, got.Value)

	ints := openMap[int, string](e, c, "ints")
	_, err = ints.Put(ctx, 42, "x")
	require.NoError(t, err)
	_, err = ints.Put(ctx, -7, "y")
	require.NoError(t, err)
	expect(t, "x")(valueOf(ints.Get(ctx, 42)))
	require.ElementsMatch(t, []int{42, -7}, iterate(t, ints.Keys(ctx)))
}

// valueOf returns the value of a map call's entry.
func valueOf[K, V any](en _map.Entry[K, V], err error) (V, error) { return en.Value, err }

func testMapIteration(t *testing.T, e *env) {
	ctx := e.ctx
	a := openMap[string, int](e, e.client(), "m")
	b := openMap[string, int](e, e.client(), "m")
	require.Empty(t, iterate(t, b.Entries(ctx)), "entries of an empty map")
	require.Empty(t, iterate(t, b.Keys(ctx)), "keys of an empty map")
	const n = 150 // more than one page for drivers that page
	want := map[string]_map.Entry[string, int]{}
	for i := range n {
		en, err := a.Put(ctx, "key-"+strings.Repeat("x", i%7)+"-"+string(rune('a'+i%26))+"-"+strconv.Itoa(i), i)
		require.NoError(t, err)
		want[en.Key] = en
	}
	got := map[string]_map.Entry[string, int]{}
	for _, en := range iterate(t, b.Entries(ctx)) {
		_, dup := got[en.Key]
		require.False(t, dup, "entry %q yielded twice", en.Key)
		got[en.Key] = en
	}
	require.Equal(t, want, got)
	keys := iterate(t, b.Keys(ctx))
	require.Len(t, keys, n)
	wantKeys := make([]string, 0, n)
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	slices.Sort(keys)
	slices.Sort(wantKeys)
	require.Equal(t, wantKeys, keys)

	// Stopping early is allowed and leaves the map usable.
	count := 0
	for _, err := range b.Entries(ctx) {
		require.NoError(t, err)
		if count++; count == 3 {
			break
		}
	}
	require.Equal(t, 3, count)
	count = 0
	for _, err := range b.Keys(ctx) {
		require.NoError(t, err)
		if count++; count == 3 {
			break
		}
	}
	require.Equal(t, 3, count)
	expect(t, n)(b.Len(ctx))
}

func testMapConcurrentCompareAndSet(t *testing.T, e *env) {
	ctx := e.ctx
	_, err := openMap[string, int](e, e.client(), "m").Insert(ctx, "n", 0)
	require.NoError(t, err)
	maps := make([]_map.Map[string, int], casClients)
	for i := range maps {
		maps[i] = openMap[string, int](e, e.client(), "m")
	}
	concurrently(t, casClients, func(i int) error {
		m := maps[i]
		return casLoop(ctx, casIncrements, func() (bool, error) {
			en, err := m.Get(ctx, "n")
			if err != nil {
				return false, err
			}
			_, err = m.Put(ctx, "n", en.Value+1, _map.IfVersion(en.Version))
			if errors.Is(err, atomix.ErrConflict) {
				return false, nil
			}
			return err == nil, err
		})
	})
	expect(t, casClients*casIncrements, "every compare-and-set increment counted once")(valueOf(maps[0].Get(ctx, "n")))
}

func testMapWatch(t *testing.T, e *env) {
	ctx := e.ctx
	a := openMap[string, string](e, e.client(), "m")
	b := openMap[string, string](e, e.client(), "m")
	_, err := a.Put(ctx, "k0", "before the watch")
	require.NoError(t, err)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan mapEvent)
	require.NoError(t, b.Watch(wctx, ch))

	k1, err := a.Put(ctx, "k1", "v1")
	require.NoError(t, err)
	require.Equal(t, mapEvent{Type: _map.EventInserted, Entry: k1}, recv(t, ch, e.event))
	k1b, err := b.Put(ctx, "k1", "v2") // through the watching instance
	require.NoError(t, err)
	require.Equal(t, mapEvent{Type: _map.EventUpdated, Entry: k1b}, recv(t, ch, e.event))
	k0, err := a.Update(ctx, "k0", "v3")
	require.NoError(t, err)
	require.Equal(t, mapEvent{Type: _map.EventUpdated, Entry: k0}, recv(t, ch, e.event))
	_, err = a.Remove(ctx, "k1")
	require.NoError(t, err)
	require.Equal(t, mapEvent{Type: _map.EventRemoved, Entry: k1b}, recv(t, ch, e.event), "a removal reports the entry as it was")
	k2, err := a.Insert(ctx, "k2", "v4")
	require.NoError(t, err)
	require.Equal(t, mapEvent{Type: _map.EventInserted, Entry: k2}, recv(t, ch, e.event))
	require.NoError(t, a.Clear(ctx))
	require.ElementsMatch(t, []mapEvent{
		{Type: _map.EventRemoved, Entry: k0},
		{Type: _map.EventRemoved, Entry: k2},
	}, recvN(t, ch, 2, e.event), "Clear reports one removal per key")
	cancel()
	requireChanClosed(t, ch, e.event)
}

func testMapWrongCodec(t *testing.T, e *env) {
	ctx, c := e.ctx, e.client()
	_, err := atomix.GetMap[string, int](ctx, "m", atomix.WithClient(c), _map.WithValueType(generic.String()))
	require.ErrorIs(t, err, atomix.ErrInvalid, "a string value codec for int values")
	_, err = atomix.GetMap[string, int](ctx, "m", atomix.WithClient(c), _map.WithKeyType(generic.JSON[int]()))
	require.ErrorIs(t, err, atomix.ErrInvalid, "an int key codec for string keys")
	_, err = atomix.GetMap[string, int](ctx, "m", atomix.WithClient(c), _map.WithKeyType(generic.String()), _map.WithValueType(generic.JSON[int]()))
	require.NoError(t, err, "codecs of the right types")
}

func testMapTooLarge(t *testing.T, e *env) {
	ctx := e.ctx
	limits := e.limits()
	if limits.MaxKeySize == 0 && limits.MaxValueSize == 0 {
		t.Skip("the driver reports no size limit")
	}
	m := openMap[string, []byte](e, e.client(), "m")
	_, err := m.Put(ctx, "k", []byte("small"))
	require.NoError(t, err)
	if big, ok := oversize(t, limits.MaxValueSize); ok {
		value := make([]byte, big)
		require.ErrorIs(t, errOf(m.Put(ctx, "k", value)), atomix.ErrInvalid, "Put of a value over MaxValueSize")
		require.ErrorIs(t, errOf(m.Insert(ctx, "new", value)), atomix.ErrInvalid, "Insert of a value over MaxValueSize")
		require.ErrorIs(t, errOf(m.Update(ctx, "k", value)), atomix.ErrInvalid, "Update with a value over MaxValueSize")
		expect(t, []byte("small"), "a rejected write stores nothing")(valueOf(m.Get(ctx, "k")))
		if limits.MaxValueSize <= atLimitCheck {
			_, err := m.Put(ctx, "k", make([]byte, limits.MaxValueSize))
			require.NoError(t, err, "Put of a value of exactly MaxValueSize")
			got, err := m.Get(ctx, "k")
			require.NoError(t, err)
			require.Len(t, got.Value, limits.MaxValueSize)
		}
	}
	if big, ok := oversize(t, limits.MaxKeySize); ok {
		require.ErrorIs(t, errOf(m.Put(ctx, strings.Repeat("k", big), nil)), atomix.ErrInvalid, "Put of a key over MaxKeySize")
		if limits.MaxKeySize <= atLimitCheck {
			key := strings.Repeat("k", limits.MaxKeySize)
			_, err := m.Put(ctx, key, []byte("v"))
			require.NoError(t, err, "Put of a key of exactly MaxKeySize")
			expect(t, []byte("v"))(valueOf(m.Get(ctx, key)))
		}
	}
}

func requireMapClosed(t *testing.T, ctx context.Context, m _map.Map[string, string]) {
	t.Helper()
	requireClosedErrors(t, map[string]error{
		"Put":    errOf(m.Put(ctx, "k", "v")),
		"Insert": errOf(m.Insert(ctx, "k", "v")),
		"Get":    errOf(m.Get(ctx, "k")),
		"Update": errOf(m.Update(ctx, "k", "v")),
		"Remove": errOf(m.Remove(ctx, "k")),
		"Len":    errOf(m.Len(ctx)),
		"Clear":  m.Clear(ctx),
		"Watch":  m.Watch(ctx, make(chan mapEvent)),
	})
	requireIterClosed(t, "Entries", m.Entries(ctx))
	requireIterClosed(t, "Keys", m.Keys(ctx))
}
