package conformance

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// watchModel is the state of one primitive as a watcher rebuilds it from
// events. It is how the suite checks the watches of a backend that merges
// states (Harness.WatchMergesStates): merged events differ from the changes
// made, but applied in order to the state the watch started from they must
// give the latest state, and each must be able to follow the state before it.
type watchModel[E any] interface {
	// apply changes the state by ev, or returns an error saying why ev
	// cannot follow the state, however changes merged: a key inserted while
	// present, a removal whose old value is not the current one, a write
	// whose version is not above every write applied before it (writes
	// arrive in commit order, and a write from before the watch is older
	// than every write after it), an index out of range or given to a second
	// entry. The state is left as it was on error.
	apply(ev E) error
	// state returns the state in a form testify compares and prints; equal
	// states give equal values.
	state() any
}

// convergence follows one watcher: it folds the events received into a
// model that starts as the state at the watch's start, and compares the
// result with the latest state.
type convergence[E any] struct {
	model   watchModel[E]
	latest  any // the state after every change
	applied int // how many received events model holds
	err     error
}

// newConvergence returns a convergence for a watch started after the
// changes whose events are before, followed by the changes whose events are
// after. It fails t if the writer's own events do not fold: a suite bug.
func newConvergence[E any](t testing.TB, s watchSpec[E], before, after []E) *convergence[E] {
	t.Helper()
	end := s.newModel()
	foldAll(t, end, before, "the writes before the watch")
	foldAll(t, end, after, "the writes during the watch")
	start := s.newModel()
	foldAll(t, start, before, "the writes before the watch")
	return &convergence[E]{model: start, latest: end.state()}
}

// foldAll applies evs to m, failing t on the first that does not apply.
func foldAll[E any](t testing.TB, m watchModel[E], evs []E, what string) {
	t.Helper()
	for i, ev := range evs {
		require.NoError(t, m.apply(ev), "conformance suite bug: event %d of %s (%+v) does not fold", i, what, ev)
	}
}

// done folds the events of evs not folded yet, which must start with those
// folded before, and reports whether the watcher has converged or an event
// did not fold (waiting longer cannot help then). It suits collector.waitFor.
func (c *convergence[E]) done(evs []E) bool {
	for c.err == nil && c.applied < len(evs) {
		if err := c.model.apply(evs[c.applied]); err != nil {
			c.err = err
			break
		}
		c.applied++
	}
	return c.err != nil || assert.ObjectsAreEqual(c.latest, c.model.state())
}

// require fails t unless every event of evs folded and the state they give
// is the latest state.
func (c *convergence[E]) require(t testing.TB, evs []E, what string) {
	t.Helper()
	c.done(evs)
	if c.err != nil {
		require.FailNow(t, fmt.Sprintf("%s: received event %d cannot follow the state before it: %v", what, c.applied, c.err),
			"event %+v\nreceived around it:\n%s", evs[c.applied], around(evs, c.applied))
	}
	require.Equal(t, c.latest, c.model.state(),
		"%s: the %d events received, applied to the state at the watch's start, do not give the latest state", what, len(evs))
}
