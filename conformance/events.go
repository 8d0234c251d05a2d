package conformance

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recv returns the next event on ch, failing t if ch closes or nothing comes
// within d.
func recv[E any](t testing.TB, ch <-chan E, d time.Duration, msgAndArgs ...any) E {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case ev, ok := <-ch:
		if !ok {
			require.FailNow(t, "watch channel closed while an event was expected", msgAndArgs...)
		}
		return ev
	case <-timer.C:
		require.FailNow(t, "no event within "+d.String(), msgAndArgs...)
		panic("unreachable")
	}
}

// recvN returns the next n events on ch, each of which must come within d.
func recvN[E any](t testing.TB, ch <-chan E, n int, d time.Duration, msgAndArgs ...any) []E {
	t.Helper()
	evs := make([]E, 0, n)
	for range n {
		evs = append(evs, recv(t, ch, d, msgAndArgs...))
	}
	return evs
}

// requireChanClosed fails t unless ch is closed within d. Events still in
// flight are discarded.
func requireChanClosed[E any](t testing.TB, ch <-chan E, d time.Duration, msgAndArgs ...any) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timer.C:
			require.FailNow(t, "watch channel not closed within "+d.String(), msgAndArgs...)
		}
	}
}

// collector reads a watch channel in its own goroutine until it is closed,
// keeping every event, so that the test can wait for a number of them.
type collector[E any] struct {
	mu     sync.Mutex
	events []E
	closed bool
	wake   chan struct{} // closed and replaced on every change
}

// collect starts reading ch.
func collect[E any](ch <-chan E) *collector[E] {
	c := &collector[E]{wake: make(chan struct{})}
	go func() {
		for ev := range ch {
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.signal()
			c.mu.Unlock()
		}
		c.mu.Lock()
		c.closed = true
		c.signal()
		c.mu.Unlock()
	}()
	return c
}

func (c *collector[E]) signal() {
	close(c.wake)
	c.wake = make(chan struct{})
}

// waitFor waits until done holds for the events received so far or the
// channel closed, giving up when no event comes for idle (at once when idle
// is 0). It returns the events received so far.
func (c *collector[E]) waitFor(done func([]E) bool, idle time.Duration) []E {
	for {
		c.mu.Lock()
		evs, closed, wake := slices.Clone(c.events), c.closed, c.wake
		c.mu.Unlock()
		if closed || idle <= 0 || done(evs) {
			return evs
		}
		timer := time.NewTimer(idle)
		select {
		case <-wake:
			timer.Stop()
		case <-timer.C:
			return evs
		}
	}
}

// waitClosed reports whether the channel closed within d.
func (c *collector[E]) waitClosed(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		c.mu.Lock()
		closed, wake := c.closed, c.wake
		c.mu.Unlock()
		if closed {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		timer := time.NewTimer(left)
		select {
		case <-wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// requireSameEvents fails t unless got is exactly want, reporting the first
// difference with a few events of context rather than both whole sequences.
func requireSameEvents[E any](t testing.TB, want, got []E, what string) {
	t.Helper()
	for i := range min(len(want), len(got)) {
		if !assert.ObjectsAreEqual(want[i], got[i]) {
			require.FailNow(t, fmt.Sprintf("%s: event %d of %d differs", what, i, len(want)),
				"want %+v\n got %+v\nexpected around it:\n%s\nreceived around it:\n%s",
				want[i], got[i], around(want, i), around(got, i))
		}
	}
	if len(got) < len(want) {
		require.FailNow(t, fmt.Sprintf("%s: %d of %d events received", what, len(got), len(want)),
			"first missing: %+v", want[len(got)])
	}
	if len(got) > len(want) {
		require.FailNow(t, fmt.Sprintf("%s: %d events received, %d expected", what, len(got), len(want)),
			"first unexpected: %+v", got[len(want)])
	}
}

// around formats the events near index i.
func around[E any](evs []E, i int) string {
	var b strings.Builder
	for j := max(0, i-3); j < min(len(evs), i+3); j++ {
		fmt.Fprintf(&b, "  %d: %+v\n", j, evs[j])
	}
	return b.String()
}
