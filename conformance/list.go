package conformance

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/list"
	"github.com/atomix/go-client/atomix/primitive"
)

func testList(t *testing.T, h Harness) {
	skipIfGap(t, h, FeatureList)
	parallel(t, "Operations", h, testListOperations)
	parallel(t, "Items", h, testListItems)
	parallel(t, "Long", h, testListLong)
	parallel(t, "Watch", h, testListWatch)
	runWatchEveryChange(t, h, listWatchSpec())
	t.Run("WatchIsolation", func(t *testing.T) { testWatchIsolation(t, h, listWatchSpec()) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, h, listKind) })
	parallel(t, "InvalidName", h, func(t *testing.T, e *env) {
		_, err := atomix.GetList[string](e.ctx, "", atomix.WithClient(e.client()))
		require.ErrorIs(t, err, atomix.ErrInvalid)
	})
	parallel(t, "WrongCodec", h, func(t *testing.T, e *env) {
		_, err := atomix.GetList[int](e.ctx, "l", atomix.WithClient(e.client()), list.WithElementType(generic.Bytes()))
		require.ErrorIs(t, err, atomix.ErrInvalid, "a bytes codec for int items")
	})
	parallel(t, "TooLarge", h, func(t *testing.T, e *env) {
		limit := e.limits().MaxValueSize
		big, ok := oversize(t, limit)
		if !ok {
			t.Skip("the driver reports no usable MaxValueSize")
		}
		l := openList[[]byte](e, e.client(), "l")
		require.ErrorIs(t, errOf(l.Append(e.ctx, make([]byte, big))), atomix.ErrInvalid, "Append of an item over MaxValueSize")
		require.ErrorIs(t, l.Insert(e.ctx, 0, make([]byte, big)), atomix.ErrInvalid, "Insert of an item over MaxValueSize")
		expect(t, 0, "a rejected write stores nothing")(l.Len(e.ctx))
		expect(t, 0)(l.Append(e.ctx, []byte("small")))
		require.ErrorIs(t, errOf(l.Set(e.ctx, 0, make([]byte, big))), atomix.ErrInvalid, "Set of an item over MaxValueSize")
		expect(t, []byte("small"))(l.Get(e.ctx, 0))
	})
	parallel(t, "Closed", h, func(t *testing.T, e *env) {
		l := openList[string](e, e.client(), "l")
		require.NoError(t, l.Close(e.ctx))
		requireListClosed(t, e.ctx, l)
		requireCloseAgain(t, l.Close(e.ctx))
	})
	parallel(t, "ClientClosed", h, func(t *testing.T, e *env) {
		c := e.client()
		l := openList[string](e, c, "l")
		require.NoError(t, c.Close(e.ctx))
		requireListClosed(t, e.ctx, l)
		_, err := atomix.GetList[string](e.ctx, "l", atomix.WithClient(c))
		require.ErrorIs(t, err, atomix.ErrClosed, "GetList on a closed client")
	})
}

// openList opens list name through c, failing the test if it cannot.
func openList[E any](e *env, c *atomix.Client, name string, opts ...primitive.Option) list.List[E] {
	e.t.Helper()
	l, err := atomix.GetList[E](e.ctx, name, append([]primitive.Option{atomix.WithClient(c)}, opts...)...)
	require.NoError(e.t, err, "GetList %q", name)
	require.Equal(e.t, name, l.Name())
	return l
}

func testListOperations(t *testing.T, e *env) {
	ctx := e.ctx
	a := openList[string](e, e.client(), "l")
	b := openList[string](e, e.client(), "l")
	expect(t, 0)(a.Len(ctx))
	require.ErrorIs(t, errOf(a.Get(ctx, 0)), atomix.ErrNotFound, "Get in an empty list")
	require.ErrorIs(t, errOf(a.Set(ctx, 0, "x")), atomix.ErrNotFound, "Set in an empty list")
	require.ErrorIs(t, errOf(a.Remove(ctx, 0)), atomix.ErrNotFound, "Remove in an empty list")
	require.ErrorIs(t, a.Insert(ctx, 1, "x"), atomix.ErrNotFound, "Insert past the end")

	expect(t, 0)(a.Append(ctx, "a"))
	expect(t, 1)(b.Append(ctx, "b"))
	expect(t, 2)(a.Append(ctx, "c"))
	expect(t, "b", "the other client reads the write")(b.Get(ctx, 1))
	require.Equal(t, []string{"a", "b", "c"}, iterate(t, b.Items(ctx)))

	require.NoError(t, a.Insert(ctx, 0, "z"))
	require.NoError(t, b.Insert(ctx, 4, "end"), "Insert at Len appends")
	require.ErrorIs(t, a.Insert(ctx, 6, "x"), atomix.ErrNotFound, "Insert past the end")
	require.Equal(t, []string{"z", "a", "b", "c", "end"}, iterate(t, a.Items(ctx)))
	expect(t, "a", "Set returns the replaced item")(a.Set(ctx, 1, "A"))
	require.ErrorIs(t, errOf(a.Set(ctx, 5, "x")), atomix.ErrNotFound, "Set past the end")
	expect(t, "z", "Remove returns the removed item")(b.Remove(ctx, 0))
	require.ErrorIs(t, errOf(a.Remove(ctx, 4)), atomix.ErrNotFound, "Remove past the end")
	require.ErrorIs(t, errOf(a.Get(ctx, 4)), atomix.ErrNotFound, "Get past the end")
	require.Equal(t, []string{"A", "b", "c", "end"}, iterate(t, b.Items(ctx)))
	expect(t, 4)(a.Len(ctx))

	require.ErrorIs(t, errOf(a.Get(ctx, -1)), atomix.ErrInvalid, "Get at a negative index")
	require.ErrorIs(t, errOf(a.Set(ctx, -1, "x")), atomix.ErrInvalid, "Set at a negative index")
	require.ErrorIs(t, a.Insert(ctx, -1, "x"), atomix.ErrInvalid, "Insert at a negative index")
	require.ErrorIs(t, errOf(a.Remove(ctx, -1)), atomix.ErrInvalid, "Remove at a negative index")

	require.NoError(t, b.Clear(ctx))
	expect(t, 0)(a.Len(ctx))
	require.Empty(t, iterate(t, a.Items(ctx)))
	expect(t, 0, "Append after Clear")(a.Append(ctx, "again"))

	points := openList[point](e, e.client(), "points")
	p := point{X: 5, Label: "l"}
	expect(t, 0)(points.Append(ctx, p))
	expect(t, p)(openList[point](e, e.client(), "points").Get(ctx, 0))
}

func testListItems(t *testing.T, e *env) {
	ctx := e.ctx
	a := openList[string](e, e.client(), "l")
	b := openList[string](e, e.client(), "l")
	const n = 150
	want := make([]string, 0, n)
	for i := range n {
		item := "item-" + strconv.Itoa(i)
		expect(t, i)(a.Append(ctx, item))
		want = append(want, item)
	}
	require.Equal(t, want, iterate(t, b.Items(ctx)), "items in order")
	var got []string
	for item, err := range b.Items(ctx) {
		require.NoError(t, err)
		if got = append(got, item); len(got) == 3 {
			break
		}
	}
	require.Equal(t, want[:3], got, "stopping early")
	expect(t, n)(b.Len(ctx))
}

// testListLong changes a list of 300 items at its front, in its middle and
// at its end: more items than one etcd transaction could move (the etcd
// driver once shifted items key by key and failed here), and more than one
// chunk of any chunked layout.
func testListLong(t *testing.T, e *env) {
	ctx := e.ctx
	a := openList[string](e, e.client(), "l")
	b := openList[string](e, e.client(), "l")
	const n = 300
	want := make([]string, 0, n+2)
	for i := range n {
		item := "item-" + strconv.Itoa(i)
		expect(t, i)(a.Append(ctx, item))
		want = append(want, item)
	}
	require.NoError(t, a.Insert(ctx, 0, "front"), "Insert at the front of %d items", n)
	want = slices.Insert(want, 0, "front")
	require.NoError(t, b.Insert(ctx, 150, "middle"), "Insert in the middle from another instance")
	want = slices.Insert(want, 150, "middle")
	expect(t, "item-199", "Remove in the middle")(a.Remove(ctx, 201))
	want = slices.Delete(want, 201, 202)
	expect(t, "front", "Remove at the front")(b.Remove(ctx, 0))
	want = want[1:]
	expect(t, "item-0", "Set returns the replaced item")(a.Set(ctx, 0, "first"))
	want[0] = "first"
	expect(t, len(want))(b.Append(ctx, "end"))
	want = append(want, "end")
	expect(t, "middle")(b.Get(ctx, 149))
	expect(t, "end")(a.Get(ctx, len(want)-1))
	expect(t, len(want))(a.Len(ctx))
	require.Equal(t, want, iterate(t, b.Items(ctx)))
	for range 200 { // empties the front chunks
		_, err := a.Remove(ctx, 0)
		require.NoError(t, err)
	}
	require.Equal(t, want[200:], iterate(t, b.Items(ctx)))
}

func testListWatch(t *testing.T, e *env) {
	ctx := e.ctx
	a := openList[string](e, e.client(), "l")
	b := openList[string](e, e.client(), "l")
	expect(t, 0)(a.Append(ctx, "before"))
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan listEvent)
	require.NoError(t, b.Watch(wctx, ch))
	replica := []string{"before"} // the list when the watch started
	apply := func(ev listEvent) {
		t.Helper()
		switch ev.Type {
		case list.EventInserted:
			require.LessOrEqual(t, ev.Index, len(replica), "insertion index")
			replica = slices.Insert(replica, ev.Index, ev.Value)
		case list.EventUpdated:
			require.Less(t, ev.Index, len(replica), "update index")
			replica[ev.Index] = ev.Value
		case list.EventRemoved:
			require.Less(t, ev.Index, len(replica), "removal index")
			require.Equal(t, replica[ev.Index], ev.Value, "a removal reports the removed item")
			replica = slices.Delete(replica, ev.Index, ev.Index+1)
		default:
			require.Failf(t, "unknown event type", "%v", ev.Type)
		}
	}

	expect(t, 1)(a.Append(ctx, "x"))
	require.Equal(t, listEvent{Type: list.EventInserted, Index: 1, Value: "x"}, recv(t, ch, e.event))
	require.NoError(t, b.Insert(ctx, 0, "y")) // through the watching instance
	require.Equal(t, listEvent{Type: list.EventInserted, Index: 0, Value: "y"}, recv(t, ch, e.event))
	expect(t, "before")(a.Set(ctx, 1, "B"))
	require.Equal(t, listEvent{Type: list.EventUpdated, Index: 1, Value: "B"}, recv(t, ch, e.event))
	expect(t, "y")(a.Remove(ctx, 0))
	require.Equal(t, listEvent{Type: list.EventRemoved, Index: 0, Value: "y"}, recv(t, ch, e.event))
	replica = []string{"B", "x"}
	expect(t, 2)(a.Append(ctx, "z"))
	apply(recv(t, ch, e.event))
	require.NoError(t, a.Clear(ctx))
	for range 3 {
		ev := recv(t, ch, e.event, "Clear reports one removal per item")
		require.Equal(t, list.EventRemoved, ev.Type)
		apply(ev)
	}
	require.Empty(t, replica, "replaying the events of Clear empties the list")
	cancel()
	requireChanClosed(t, ch, e.event)
}

func requireListClosed(t *testing.T, ctx context.Context, l list.List[string]) {
	t.Helper()
	requireClosedErrors(t, map[string]error{
		"Append": errOf(l.Append(ctx, "x")),
		"Insert": l.Insert(ctx, 0, "x"),
		"Set":    errOf(l.Set(ctx, 0, "x")),
		"Get":    errOf(l.Get(ctx, 0)),
		"Remove": errOf(l.Remove(ctx, 0)),
		"Len":    errOf(l.Len(ctx)),
		"Clear":  l.Clear(ctx),
		"Watch":  l.Watch(ctx, make(chan listEvent)),
	})
	requireIterClosed(t, "Items", l.Items(ctx))
}
