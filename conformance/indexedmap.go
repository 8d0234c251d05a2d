package conformance

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/indexedmap"
	"github.com/atomix/go-client/atomix/primitive"
)

func testIndexedMap(t *testing.T, h Harness) {
	skipIfGap(t, h, FeatureIndexedMap)
	parallel(t, "Operations", h, testIndexedMapOperations)
	parallel(t, "Navigation", h, testIndexedMapNavigation)
	parallel(t, "Entries", h, testIndexedMapEntries)
	parallel(t, "Watch", h, testIndexedMapWatch)
	runWatchEveryChange(t, h, indexedMapWatchSpec())
	t.Run("WatchIsolation", func(t *testing.T) { testWatchIsolation(t, h, indexedMapWatchSpec()) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, h, indexedMapKind) })
	parallel(t, "InvalidName", h, func(t *testing.T, e *env) {
		_, err := atomix.GetIndexedMap[string, string](e.ctx, "", atomix.WithClient(e.client()))
		require.ErrorIs(t, err, atomix.ErrInvalid)
	})
	parallel(t, "WrongCodec", h, func(t *testing.T, e *env) {
		c := e.client()
		_, err := atomix.GetIndexedMap[string, int](e.ctx, "m", atomix.WithClient(c), indexedmap.WithValueType(generic.String()))
		require.ErrorIs(t, err, atomix.ErrInvalid, "a string value codec for int values")
		_, err = atomix.GetIndexedMap[string, int](e.ctx, "m", atomix.WithClient(c), indexedmap.WithKeyType(generic.Bytes()))
		require.ErrorIs(t, err, atomix.ErrInvalid, "a bytes key codec for string keys")
	})
	parallel(t, "TooLarge", h, testIndexedMapTooLarge)
	parallel(t, "Closed", h, func(t *testing.T, e *env) {
		m := openIndexedMap[string, string](e, e.client(), "m")
		require.NoError(t, m.Close(e.ctx))
		requireIndexedMapClosed(t, e.ctx, m)
		requireCloseAgain(t, m.Close(e.ctx))
	})
	parallel(t, "ClientClosed", h, func(t *testing.T, e *env) {
		c := e.client()
		m := openIndexedMap[string, string](e, c, "m")
		require.NoError(t, c.Close(e.ctx))
		requireIndexedMapClosed(t, e.ctx, m)
		_, err := atomix.GetIndexedMap[string, string](e.ctx, "m", atomix.WithClient(c))
		require.ErrorIs(t, err, atomix.ErrClosed, "GetIndexedMap on a closed client")
	})
}

// openIndexedMap opens indexed map name through c, failing the test if it
// cannot.
func openIndexedMap[K, V any](e *env, c *atomix.Client, name string, opts ...primitive.Option) indexedmap.IndexedMap[K, V] {
	e.t.Helper()
	m, err := atomix.GetIndexedMap[K, V](e.ctx, name, append([]primitive.Option{atomix.WithClient(c)}, opts...)...)
	require.NoError(e.t, err, "GetIndexedMap %q", name)
	require.Equal(e.t, name, m.Name())
	return m
}

func testIndexedMapOperations(t *testing.T, e *env) {
	ctx := e.ctx
	a := openIndexedMap[string, string](e, e.client(), "m")
	b := openIndexedMap[string, string](e, e.client(), "m")
	versions := versionTracker{t: t}
	var lastIndex uint64
	written := func(en indexedMapEntry, err error) indexedMapEntry {
		t.Helper()
		require.NoError(t, err)
		versions.next(en.Version, "indexed map write")
		return en
	}
	appended := func(en indexedMapEntry, err error) indexedMapEntry {
		t.Helper()
		en = written(en, err)
		require.Greater(t, en.Index, lastIndex, "indexes must strictly increase and never be reused")
		lastIndex = en.Index
		return en
	}

	expect(t, 0)(a.Len(ctx))
	require.ErrorIs(t, errOf(a.Get(ctx, "a")), atomix.ErrNotFound)
	require.ErrorIs(t, errOf(a.GetIndex(ctx, 1)), atomix.ErrNotFound)
	e1 := appended(a.Append(ctx, "a", "1"))
	require.Equal(t, indexedMapEntry{Key: "a", Index: 1, Value: "1", Version: e1.Version}, e1, "the first index is 1")
	e2 := appended(b.Append(ctx, "b", "2"))
	e3 := appended(a.Append(ctx, "c", "3"))
	require.ErrorIs(t, errOf(b.Append(ctx, "a", "x")), atomix.ErrAlreadyExists)
	expect(t, e1, "a failed Append changes nothing")(b.Get(ctx, "a"))
	expect(t, e2, "the other client reads the write")(a.Get(ctx, "b"))
	expect(t, e2)(b.GetIndex(ctx, e2.Index))
	expect(t, 3)(b.Len(ctx))

	require.ErrorIs(t, errOf(a.Update(ctx, "absent", "x")), atomix.ErrNotFound)
	u2 := written(a.Update(ctx, "b", "2b"))
	require.Equal(t, e2.Index, u2.Index, "Update keeps the index")
	require.Equal(t, "2b", u2.Value)
	require.ErrorIs(t, errOf(a.Update(ctx, "b", "x", indexedmap.IfVersion(e2.Version))), atomix.ErrConflict)
	u2 = written(b.Update(ctx, "b", "2c", indexedmap.IfVersion(u2.Version)))
	expect(t, u2)(a.GetIndex(ctx, e2.Index))

	require.ErrorIs(t, errOf(a.Remove(ctx, "b", indexedmap.IfVersion(e2.Version))), atomix.ErrConflict)
	require.ErrorIs(t, errOf(a.RemoveIndex(ctx, e2.Index, indexedmap.IfVersion(e2.Version))), atomix.ErrConflict)
	expect(t, u2, "Remove returns the removed entry")(a.Remove(ctx, "b", indexedmap.IfVersion(u2.Version)))
	require.ErrorIs(t, errOf(b.Get(ctx, "b")), atomix.ErrNotFound)
	require.ErrorIs(t, errOf(b.GetIndex(ctx, e2.Index)), atomix.ErrNotFound)
	require.ErrorIs(t, errOf(b.Remove(ctx, "b")), atomix.ErrNotFound)
	require.ErrorIs(t, errOf(b.RemoveIndex(ctx, e2.Index)), atomix.ErrNotFound)
	expect(t, e1, "RemoveIndex returns the removed entry")(b.RemoveIndex(ctx, e1.Index))
	expect(t, 1)(a.Len(ctx))

	e4 := appended(a.Append(ctx, "b", "again")) // a new index, never a reused one
	require.Equal(t, []indexedMapEntry{e3, e4}, iterate(t, b.Entries(ctx)))
	require.NoError(t, b.Clear(ctx))
	expect(t, 0)(a.Len(ctx))
	require.ErrorIs(t, errOf(a.FirstEntry(ctx)), atomix.ErrNotFound)
	e5 := appended(a.Append(ctx, "a", "after clear")) // indexes are not reused after Clear
	expect(t, e5)(b.RemoveIndex(ctx, e5.Index, indexedmap.IfVersion(e5.Version)))
	require.NoError(t, a.Clear(ctx), "clearing an empty map")

	points := openIndexedMap[string, point](e, e.client(), "points")
	p := point{Y: 9, Label: "i"}
	en, err := points.Append(ctx, "p", p)
	require.NoError(t, err)
	expect(t, en)(openIndexedMap[string, point](e, e.client(), "points").Get(ctx, "p"))
}

func testIndexedMapNavigation(t *testing.T, e *env) {
	ctx := e.ctx
	a := openIndexedMap[string, string](e, e.client(), "m")
	b := openIndexedMap[string, string](e, e.client(), "m")
	require.ErrorIs(t, errOf(b.FirstEntry(ctx)), atomix.ErrNotFound, "FirstEntry of an empty map")
	require.ErrorIs(t, errOf(b.LastEntry(ctx)), atomix.ErrNotFound, "LastEntry of an empty map")
	require.ErrorIs(t, errOf(b.NextEntry(ctx, 0)), atomix.ErrNotFound, "NextEntry in an empty map")
	require.ErrorIs(t, errOf(b.PrevEntry(ctx, 10)), atomix.ErrNotFound, "PrevEntry in an empty map")

	var es []indexedMapEntry
	for _, k := range []string{"a", "b", "c", "d"} {
		en, err := a.Append(ctx, k, strings.ToUpper(k))
		require.NoError(t, err)
		es = append(es, en)
	}
	expect(t, es[0])(b.FirstEntry(ctx))
	expect(t, es[3])(b.LastEntry(ctx))
	expect(t, es[1])(b.NextEntry(ctx, es[0].Index))
	expect(t, es[2])(b.PrevEntry(ctx, es[3].Index))
	expect(t, es[0], "NextEntry of an index below all")(b.NextEntry(ctx, 0))
	expect(t, es[3], "PrevEntry of an index above all")(b.PrevEntry(ctx, es[3].Index+100))
	require.ErrorIs(t, errOf(b.PrevEntry(ctx, es[0].Index)), atomix.ErrNotFound, "PrevEntry of the first")
	require.ErrorIs(t, errOf(b.NextEntry(ctx, es[3].Index)), atomix.ErrNotFound, "NextEntry of the last")

	_, err := a.Remove(ctx, "b")
	require.NoError(t, err)
	expect(t, es[2], "NextEntry skips a removed index")(b.NextEntry(ctx, es[0].Index))
	expect(t, es[0], "PrevEntry skips a removed index")(b.PrevEntry(ctx, es[2].Index))
	expect(t, es[2], "NextEntry of a removed index")(b.NextEntry(ctx, es[1].Index))
	expect(t, es[0], "PrevEntry of a removed index")(b.PrevEntry(ctx, es[1].Index))
	_, err = a.RemoveIndex(ctx, es[0].Index)
	require.NoError(t, err)
	_, err = a.Remove(ctx, "d")
	require.NoError(t, err)
	expect(t, es[2], "FirstEntry after the first was removed")(b.FirstEntry(ctx))
	expect(t, es[2], "LastEntry after the last was removed")(b.LastEntry(ctx))
}

func testIndexedMapEntries(t *testing.T, e *env) {
	ctx := e.ctx
	a := openIndexedMap[string, int](e, e.client(), "m")
	b := openIndexedMap[string, int](e, e.client(), "m")
	require.Empty(t, iterate(t, b.Entries(ctx)))
	const n = 150
	var want []indexedmap.Entry[string, int]
	for i := range n {
		en, err := a.Append(ctx, "key-"+strconv.Itoa(n-i), i) // key order is not index order
		require.NoError(t, err)
		want = append(want, en)
	}
	require.Equal(t, want, iterate(t, b.Entries(ctx)), "entries in index order")
	for i := 10; i < 20; i++ {
		_, err := a.RemoveIndex(ctx, want[i].Index)
		require.NoError(t, err)
	}
	want = append(want[:10], want[20:]...)
	require.Equal(t, want, iterate(t, b.Entries(ctx)), "entries in index order after removals")
	count := 0
	for _, err := range b.Entries(ctx) {
		require.NoError(t, err)
		if count++; count == 3 {
			break
		}
	}
	require.Equal(t, 3, count)
	expect(t, n-10)(b.Len(ctx))
}

func testIndexedMapWatch(t *testing.T, e *env) {
	ctx := e.ctx
	a := openIndexedMap[string, string](e, e.client(), "m")
	b := openIndexedMap[string, string](e, e.client(), "m")
	_, err := a.Append(ctx, "k0", "before the watch")
	require.NoError(t, err)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan indexedMapEvent)
	require.NoError(t, b.Watch(wctx, ch))

	k1, err := a.Append(ctx, "k1", "v1")
	require.NoError(t, err)
	require.Equal(t, indexedMapEvent{Type: indexedmap.EventInserted, Entry: k1}, recv(t, ch, e.event))
	k1b, err := b.Update(ctx, "k1", "v2") // through the watching instance
	require.NoError(t, err)
	require.Equal(t, indexedMapEvent{Type: indexedmap.EventUpdated, Entry: k1b}, recv(t, ch, e.event))
	k0, err := a.Update(ctx, "k0", "v3")
	require.NoError(t, err)
	require.Equal(t, indexedMapEvent{Type: indexedmap.EventUpdated, Entry: k0}, recv(t, ch, e.event))
	_, err = a.RemoveIndex(ctx, k1.Index)
	require.NoError(t, err)
	require.Equal(t, indexedMapEvent{Type: indexedmap.EventRemoved, Entry: k1b}, recv(t, ch, e.event), "a removal reports the entry as it was")
	k2, err := a.Append(ctx, "k2", "v4")
	require.NoError(t, err)
	require.Equal(t, indexedMapEvent{Type: indexedmap.EventInserted, Entry: k2}, recv(t, ch, e.event))
	require.NoError(t, a.Clear(ctx))
	require.ElementsMatch(t, []indexedMapEvent{
		{Type: indexedmap.EventRemoved, Entry: k0},
		{Type: indexedmap.EventRemoved, Entry: k2},
	}, recvN(t, ch, 2, e.event), "Clear reports one removal per entry")
	cancel()
	requireChanClosed(t, ch, e.event)
}

func testIndexedMapTooLarge(t *testing.T, e *env) {
	ctx := e.ctx
	limits := e.limits()
	if limits.MaxKeySize == 0 && limits.MaxValueSize == 0 {
		t.Skip("the driver reports no size limit")
	}
	m := openIndexedMap[string, []byte](e, e.client(), "m")
	small, err := m.Append(ctx, "k", []byte("small"))
	require.NoError(t, err)
	if big, ok := oversize(t, limits.MaxValueSize); ok {
		value := make([]byte, big)
		require.ErrorIs(t, errOf(m.Append(ctx, "new", value)), atomix.ErrInvalid, "Append of a value over MaxValueSize")
		require.ErrorIs(t, errOf(m.Update(ctx, "k", value)), atomix.ErrInvalid, "Update with a value over MaxValueSize")
		expect(t, small, "a rejected write stores nothing")(m.Get(ctx, "k"))
	}
	if big, ok := oversize(t, limits.MaxKeySize); ok {
		require.ErrorIs(t, errOf(m.Append(ctx, strings.Repeat("k", big), nil)), atomix.ErrInvalid, "Append of a key over MaxKeySize")
	}
	expect(t, 1)(m.Len(ctx))
}

func requireIndexedMapClosed(t *testing.T, ctx context.Context, m indexedmap.IndexedMap[string, string]) {
	t.Helper()
	requireClosedErrors(t, map[string]error{
		"Append":      errOf(m.Append(ctx, "k", "v")),
		"Update":      errOf(m.Update(ctx, "k", "v")),
		"Get":         errOf(m.Get(ctx, "k")),
		"GetIndex":    errOf(m.GetIndex(ctx, 1)),
		"FirstEntry":  errOf(m.FirstEntry(ctx)),
		"LastEntry":   errOf(m.LastEntry(ctx)),
		"PrevEntry":   errOf(m.PrevEntry(ctx, 2)),
		"NextEntry":   errOf(m.NextEntry(ctx, 0)),
		"Remove":      errOf(m.Remove(ctx, "k")),
		"RemoveIndex": errOf(m.RemoveIndex(ctx, 1)),
		"Len":         errOf(m.Len(ctx)),
		"Clear":       m.Clear(ctx),
		"Watch":       m.Watch(ctx, make(chan indexedMapEvent)),
	})
	requireIterClosed(t, "Entries", m.Entries(ctx))
}
