package conformance

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/atomix/go-client/atomix"
)

// rapidWrites is how many changes WatchEveryChange makes back to back.
const rapidWrites = 1000

// watcher is what every watchable primitive has.
type watcher[E any] interface {
	Watch(ctx context.Context, ch chan<- E) error
	Close(ctx context.Context) error
}

// writeStep makes one change, or one attempt that must change nothing (a
// failed precondition, an Add of a present element), and returns the events
// it must cause, in order. Step i of a writer is called after step i-1
// returned.
type writeStep[E any] func(ctx context.Context, i int) ([]E, error)

// watchSpec describes a watchable primitive for the generic watch tests.
type watchSpec[E any] struct {
	feature Feature
	// open opens the primitive name through c.
	open func(ctx context.Context, c *atomix.Client, name string) (watcher[E], error)
	// newWriter opens the primitive name through c and returns a writer of
	// pseudo-random changes that knows the events each causes.
	newWriter func(ctx context.Context, c *atomix.Client, name string) (writeStep[E], error)
	// newModel returns a model of a new, empty primitive, into which the
	// convergence check folds events.
	newModel func() watchModel[E]
}

// change calls step until it causes an event and returns the events.
func change[E any](t testing.TB, ctx context.Context, step writeStep[E], i *int) []E {
	t.Helper()
	for range 100 {
		evs, err := step(ctx, *i)
		*i++
		require.NoError(t, err, "write %d", *i-1)
		if len(evs) > 0 {
			return evs
		}
	}
	require.FailNow(t, "the writer made no change in 100 steps")
	return nil
}

// runWatchEveryChange runs testWatchEveryChange as a subtest of t named
// after the check it makes: WatchEveryChange compares events one by one,
// WatchConverges (on a backend that declares Harness.WatchMergesStates)
// checks that the watchers converge.
func runWatchEveryChange[E any](t *testing.T, h Harness, s watchSpec[E]) {
	name := "WatchEveryChange"
	if h.WatchMergesStates {
		name = "WatchConverges"
	}
	t.Run(name, func(t *testing.T) { testWatchEveryChange(t, h, s) })
}

// testWatchEveryChange checks that two watchers on one instance, one of them
// reading only after the writes, each get every event caused by another
// client's rapid writes, in commit order, and nothing caused before the
// watch. On a backend that merges states it checks instead that each
// watcher's events fold into the latest state (see watchModel).
func testWatchEveryChange[E any](t *testing.T, h Harness, s watchSpec[E]) {
	t.Parallel()
	skipIfGap(t, h, s.feature)
	if h.WatchMergesStates {
		t.Log("Harness.WatchMergesStates: the backend reports states, not changes, so changes " +
			"between two of its reads may merge; checking that each watcher converges to the " +
			"latest state instead of comparing events one by one")
	}
	e := newEnv(t, h)
	writerClient, watcherClient := e.client(), e.client()
	step, err := s.newWriter(e.ctx, writerClient, "w")
	require.NoError(t, err)
	i := 0
	var before []E
	for range 10 { // state before the watch, which it must not report
		before = append(before, change(t, e.ctx, step, &i)...)
	}
	p, err := s.open(e.ctx, watcherClient, "w")
	require.NoError(t, err)
	wctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	eagerCh, slowCh := make(chan E), make(chan E)
	require.NoError(t, p.Watch(wctx, eagerCh))
	require.NoError(t, p.Watch(wctx, slowCh))
	eager := collect(eagerCh)

	var want []E
	start := time.Now()
	for range rapidWrites {
		evs, err := step(e.ctx, i)
		require.NoError(t, err, "write %d", i)
		i++
		want = append(want, evs...)
	}
	t.Logf("%d writes causing %d events in %v", rapidWrites, len(want), time.Since(start))
	require.NotEmpty(t, want)
	// The slow watcher is read only now: its events had to be buffered.
	slow := collect(slowCh)

	if h.WatchMergesStates {
		eagerConv, slowConv := newConvergence(t, s, before, want), newConvergence(t, s, before, want)
		eagerConv.require(t, eager.waitFor(eagerConv.done, e.event), "eager watcher")
		slowConv.require(t, slow.waitFor(slowConv.done, e.event), "slow watcher")
		time.Sleep(e.quiet) // let anything extra arrive
		eagerEvs, slowEvs := eager.waitFor(eagerConv.done, 0), slow.waitFor(slowConv.done, 0)
		eagerConv.require(t, eagerEvs, "eager watcher, after a pause")
		slowConv.require(t, slowEvs, "slow watcher, after a pause")
		t.Logf("%d changes reached the eager watcher as %d events, the slow one as %d", len(want), len(eagerEvs), len(slowEvs))
	} else {
		complete := func(got []E) bool { return len(got) >= len(want) }
		requireSameEvents(t, want, eager.waitFor(complete, e.event), "eager watcher")
		requireSameEvents(t, want, slow.waitFor(complete, e.event), "slow watcher")
		time.Sleep(e.quiet) // let anything extra arrive
		requireSameEvents(t, want, eager.waitFor(complete, 0), "eager watcher, after a pause")
		requireSameEvents(t, want, slow.waitFor(complete, 0), "slow watcher, after a pause")
	}

	cancel()
	require.True(t, eager.waitClosed(e.event), "watch channel not closed after its context was cancelled")
	require.True(t, slow.waitClosed(e.event), "watch channel not closed after its context was cancelled")
}

// testWatchCleanup checks that a watch channel is closed when its context is
// cancelled (leaving the instance's other watches running), when the
// primitive is closed and when its client is closed, and that no goroutine
// started by the watches is left behind. It must not run in parallel with
// other tests: it counts every goroutine of the process.
func testWatchCleanup[E any](t *testing.T, h Harness, s watchSpec[E]) {
	skipIfGap(t, h, s.feature)
	e := newEnv(t, h)
	writerClient, watcherClient := e.client(), e.client()
	step, err := s.newWriter(e.ctx, writerClient, "w")
	require.NoError(t, err)
	i := 0
	p, err := s.open(e.ctx, watcherClient, "w")
	require.NoError(t, err)

	// Warm up: let both clients start whatever they keep for their life
	// (connections, sessions) before the goroutines are counted.
	warm, stopWarm := context.WithCancel(e.ctx)
	ch0 := make(chan E)
	require.NoError(t, p.Watch(warm, ch0))
	recvN(t, ch0, len(change(t, e.ctx, step, &i)), e.event, "warm-up watch")
	stopWarm()
	requireChanClosed(t, ch0, e.event, "warm-up watch after its context was cancelled")

	baseline := goleak.IgnoreCurrent()

	ctx1, cancel1 := context.WithCancel(e.ctx)
	defer cancel1()
	ch1, ch2 := make(chan E), make(chan E)
	require.NoError(t, p.Watch(ctx1, ch1))
	require.NoError(t, p.Watch(e.ctx, ch2))
	n := len(change(t, e.ctx, step, &i))
	recvN(t, ch1, n, e.event, "first watch")
	recvN(t, ch2, n, e.event, "second watch")
	cancel1()
	requireChanClosed(t, ch1, e.event, "watch after its context was cancelled")
	n = len(change(t, e.ctx, step, &i))
	recvN(t, ch2, n, e.event, "second watch, after the first was cancelled")
	require.NoError(t, p.Close(e.ctx))
	requireChanClosed(t, ch2, e.event, "watch after the primitive was closed")
	require.ErrorIs(t, p.Watch(e.ctx, make(chan E)), atomix.ErrClosed, "Watch on a closed primitive")

	p2, err := s.open(e.ctx, watcherClient, "w")
	require.NoError(t, err)
	ch3 := make(chan E)
	require.NoError(t, p2.Watch(e.ctx, ch3))
	recvN(t, ch3, len(change(t, e.ctx, step, &i)), e.event, "watch on a new instance")
	require.NoError(t, watcherClient.Close(e.ctx))
	requireChanClosed(t, ch3, e.event, "watch after its client was closed")

	requireNoNewGoroutines(t, baseline, e.event)
}

// testWatchIsolation checks that a watch reports changes to its own
// primitive only, not to names or namespaces that prefix it or that it
// prefixes.
func testWatchIsolation[E any](t *testing.T, h Harness, s watchSpec[E]) {
	t.Parallel()
	skipIfGap(t, h, s.feature)
	e := newEnv(t, h)
	base := e.ns
	p, err := s.open(e.ctx, e.clientIn(base+"1"), "a")
	require.NoError(t, err)
	wctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	ch := make(chan E)
	require.NoError(t, p.Watch(wctx, ch))
	got := collect(ch)

	same, longer, shorter := e.clientIn(base+"1"), e.clientIn(base+"10"), e.clientIn(base)
	neighbours := []struct {
		c    *atomix.Client
		name string
	}{
		{same, "a/b"}, {same, "ab"}, {same, "a/"}, {same, "/a"}, {same, "A"},
		{longer, "a"}, {shorter, "1a"}, {shorter, "1/a"}, {shorter, "a"},
	}
	for _, nb := range neighbours {
		step, err := s.newWriter(e.ctx, nb.c, nb.name)
		require.NoError(t, err, "writer on %q", nb.name)
		i := 0
		change(t, e.ctx, step, &i)
	}
	step, err := s.newWriter(e.ctx, same, "a")
	require.NoError(t, err)
	i := 0
	want := change(t, e.ctx, step, &i)
	got.waitFor(func(evs []E) bool { return len(evs) >= len(want) }, e.event)
	time.Sleep(e.quiet) // let anything leaked from a neighbour arrive
	evs := got.waitFor(func([]E) bool { return true }, 0)
	requireSameEvents(t, want, evs, fmt.Sprintf("watch of %q in namespace %q", "a", base+"1"))
}
