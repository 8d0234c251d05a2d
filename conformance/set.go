package conformance

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/atomix/set"
)

func testSet(t *testing.T, h Harness) {
	skipIfGap(t, h, FeatureSet)
	parallel(t, "Operations", h, testSetOperations)
	parallel(t, "Elements", h, testSetElements)
	parallel(t, "Watch", h, testSetWatch)
	runWatchEveryChange(t, h, setWatchSpec())
	t.Run("WatchIsolation", func(t *testing.T) { testWatchIsolation(t, h, setWatchSpec()) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, h, setKind) })
	parallel(t, "InvalidName", h, func(t *testing.T, e *env) {
		_, err := atomix.GetSet[string](e.ctx, "", atomix.WithClient(e.client()))
		require.ErrorIs(t, err, atomix.ErrInvalid)
	})
	parallel(t, "WrongCodec", h, func(t *testing.T, e *env) {
		_, err := atomix.GetSet[int](e.ctx, "s", atomix.WithClient(e.client()), set.WithElementType(generic.String()))
		require.ErrorIs(t, err, atomix.ErrInvalid, "a string codec for int elements")
	})
	parallel(t, "TooLarge", h, func(t *testing.T, e *env) {
		limit := e.limits().MaxKeySize
		big, ok := oversize(t, limit)
		if !ok {
			t.Skip("the driver reports no usable MaxKeySize")
		}
		s := openSet[string](e, e.client(), "s")
		require.ErrorIs(t, errOf(s.Add(e.ctx, strings.Repeat("e", big))), atomix.ErrInvalid, "Add of an element over MaxKeySize")
		expect(t, 0, "a rejected Add stores nothing")(s.Len(e.ctx))
		if limit <= atLimitCheck {
			expect(t, true, "Add of an element of exactly MaxKeySize")(s.Add(e.ctx, strings.Repeat("e", limit)))
		}
	})
	parallel(t, "Closed", h, func(t *testing.T, e *env) {
		s := openSet[string](e, e.client(), "s")
		require.NoError(t, s.Close(e.ctx))
		requireSetClosed(t, e.ctx, s)
		requireCloseAgain(t, s.Close(e.ctx))
	})
	parallel(t, "ClientClosed", h, func(t *testing.T, e *env) {
		c := e.client()
		s := openSet[string](e, c, "s")
		require.NoError(t, c.Close(e.ctx))
		requireSetClosed(t, e.ctx, s)
		_, err := atomix.GetSet[string](e.ctx, "s", atomix.WithClient(c))
		require.ErrorIs(t, err, atomix.ErrClosed, "GetSet on a closed client")
	})
}

// openSet opens set name through c, failing the test if it cannot.
func openSet[E any](e *env, c *atomix.Client, name string, opts ...primitive.Option) set.Set[E] {
	e.t.Helper()
	s, err := atomix.GetSet[E](e.ctx, name, append([]primitive.Option{atomix.WithClient(c)}, opts...)...)
	require.NoError(e.t, err, "GetSet %q", name)
	require.Equal(e.t, name, s.Name())
	return s
}

func testSetOperations(t *testing.T, e *env) {
	ctx := e.ctx
	a := openSet[string](e, e.client(), "s")
	b := openSet[string](e, e.client(), "s")
	expect(t, 0)(a.Len(ctx))
	expect(t, false)(a.Contains(ctx, "x"))
	expect(t, true, "Add of an absent element")(a.Add(ctx, "x"))
	expect(t, false, "Add of a present element")(b.Add(ctx, "x"))
	expect(t, true)(b.Contains(ctx, "x"))
	expect(t, true)(b.Add(ctx, "y"))
	expect(t, 2)(a.Len(ctx))
	expect(t, false, "Remove of an absent element")(a.Remove(ctx, "z"))
	expect(t, true, "Remove of a present element")(a.Remove(ctx, "x"))
	expect(t, false)(b.Contains(ctx, "x"))
	expect(t, false)(b.Remove(ctx, "x"))
	expect(t, 1)(b.Len(ctx))
	for _, el := range oddKeys {
		expect(t, true, "Add %q", el)(a.Add(ctx, el))
	}
	for _, el := range oddKeys {
		expect(t, true, "Contains %q", el)(b.Contains(ctx, el))
	}
	expect(t, 1+len(oddKeys))(b.Len(ctx))
	require.NoError(t, b.Clear(ctx))
	expect(t, 0)(a.Len(ctx))
	expect(t, false)(a.Contains(ctx, "y"))
	expect(t, true, "Add after Clear")(a.Add(ctx, "y"))

	ints := openSet[int](e, e.client(), "ints")
	expect(t, true)(ints.Add(ctx, 7))
	expect(t, true)(openSet[int](e, e.client(), "ints").Contains(ctx, 7))
}

func testSetElements(t *testing.T, e *env) {
	ctx := e.ctx
	a := openSet[string](e, e.client(), "s")
	b := openSet[string](e, e.client(), "s")
	require.Empty(t, iterate(t, b.Elements(ctx)))
	const n = 150
	want := make([]string, 0, n)
	for i := range n {
		el := "element-" + strconv.Itoa(i)
		expect(t, true)(a.Add(ctx, el))
		want = append(want, el)
	}
	got := iterate(t, b.Elements(ctx))
	require.Len(t, got, n, "every element exactly once")
	require.ElementsMatch(t, want, got)
	count := 0
	for _, err := range b.Elements(ctx) {
		require.NoError(t, err)
		if count++; count == 3 {
			break
		}
	}
	require.Equal(t, 3, count)
	expect(t, n)(b.Len(ctx))
}

func testSetWatch(t *testing.T, e *env) {
	ctx := e.ctx
	a := openSet[string](e, e.client(), "s")
	b := openSet[string](e, e.client(), "s")
	expect(t, true)(a.Add(ctx, "before"))
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan setEvent)
	require.NoError(t, b.Watch(wctx, ch))
	expect(t, true)(a.Add(ctx, "x"))
	require.Equal(t, setEvent{Type: set.EventAdded, Element: "x"}, recv(t, ch, e.event))
	expect(t, false)(a.Add(ctx, "x")) // no change, no event
	expect(t, true)(b.Add(ctx, "y"))  // through the watching instance
	require.Equal(t, setEvent{Type: set.EventAdded, Element: "y"}, recv(t, ch, e.event))
	expect(t, true)(a.Remove(ctx, "x"))
	require.Equal(t, setEvent{Type: set.EventRemoved, Element: "x"}, recv(t, ch, e.event))
	require.NoError(t, a.Clear(ctx))
	require.ElementsMatch(t, []setEvent{
		{Type: set.EventRemoved, Element: "before"},
		{Type: set.EventRemoved, Element: "y"},
	}, recvN(t, ch, 2, e.event), "Clear reports one removal per element")
	cancel()
	requireChanClosed(t, ch, e.event)
}

func requireSetClosed(t *testing.T, ctx context.Context, s set.Set[string]) {
	t.Helper()
	requireClosedErrors(t, map[string]error{
		"Add":      errOf(s.Add(ctx, "e")),
		"Remove":   errOf(s.Remove(ctx, "e")),
		"Contains": errOf(s.Contains(ctx, "e")),
		"Len":      errOf(s.Len(ctx)),
		"Clear":    s.Clear(ctx),
		"Watch":    s.Watch(ctx, make(chan setEvent)),
	})
	requireIterClosed(t, "Elements", s.Elements(ctx))
}
