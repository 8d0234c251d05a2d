package memory

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

// lateClock is the system clock, recording how late the scheduler runs its
// callbacks, including those due and not run yet.
type lateClock struct {
	mu      sync.Mutex
	maxLate time.Duration
	pending map[*lateTimer]time.Time // due times of callbacks not started
}

type lateTimer struct {
	c *lateClock
	t *time.Timer
}

func (t *lateTimer) Stop() bool {
	t.c.mu.Lock()
	delete(t.c.pending, t)
	t.c.mu.Unlock()
	return t.t.Stop()
}

func (c *lateClock) Now() time.Time { return time.Now() }

func (c *lateClock) AfterFunc(d time.Duration, f func()) Timer {
	lt := &lateTimer{c: c}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[*lateTimer]time.Time{}
	}
	due := time.Now().Add(d)
	c.pending[lt] = due
	lt.t = time.AfterFunc(d, func() {
		c.mu.Lock()
		delete(c.pending, lt)
		c.maxLate = max(c.maxLate, time.Since(due))
		c.mu.Unlock()
		f()
	})
	return lt
}

// latest returns how late the latest callback ran or is.
func (c *lateClock) latest() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	late := c.maxLate
	for _, due := range c.pending {
		late = max(late, time.Since(due))
	}
	return late
}

// TestRealClockExpiry checks session renewal and expiry on the system clock
// with a short TTL.
func TestRealClockExpiry(t *testing.T) {
	ctx := context.Background()
	const ttl = 200 * time.Millisecond
	clock := &lateClock{}
	s := NewStore(WithClock(clock))
	live, crashed := s.Connect(), s.Connect()
	defer live.Close(ctx)
	sl, err := live.NewSession(ctx, driver.SessionOptions{TTL: ttl})
	must(t, "live session", err)
	sc, err := crashed.NewSession(ctx, driver.SessionOptions{TTL: ttl})
	must(t, "crashed session", err)
	l, _ := crashed.OpenLock(ctx, id("l"))
	_, lost, err := l.Acquire(ctx, sc)
	must(t, "acquire", err)

	crashedAt := time.Now()
	crashed.Crash()
	select {
	case <-lost:
	case <-time.After(10 * ttl):
		t.Fatal("the crashed holder's lock was not released")
	}
	if waited := time.Since(crashedAt); waited < ttl/2 {
		t.Fatalf("released %v after the crash, before the TTL could pass", waited)
	}
	recv(t, sc.Done())

	// The live session renews itself every third of its TTL: wait until
	// its renewals have carried it three TTLs further.
	state := sl.(*session).state
	deadline := func() time.Time {
		state.mu.Lock()
		defer state.mu.Unlock()
		return state.deadline
	}
	until := time.Now().Add(3 * ttl)
	for giveUp := time.Now().Add(10 * time.Second); deadline().Before(until) && open(sl.Done()); {
		if time.Now().After(giveUp) {
			t.Fatalf("the live session's deadline stays at %v: not renewed", time.Until(deadline()))
		}
		time.Sleep(ttl / 10)
	}
	if !open(sl.Done()) {
		// A session not renewed for a whole TTL expires, as it must: that
		// is the case when the scheduler ran a renewal two thirds of a TTL
		// late. Only an expiry without such a delay is the driver's fault;
		// a third of a TTL leaves room for the time between the timer
		// firing and the renewal taking effect.
		if late := clock.latest(); late < ttl/3 {
			t.Fatalf("a live session expired although its renewals ran on time (at most %v late)", late)
		} else {
			t.Logf("the live session expired: a timer ran %v late, more than the TTL %v allows", late, ttl)
		}
	}
}
