package driver

import (
	"context"
	"sync"
	"time"
)

// The backoff between tries of a clean-up (see RetryCleanup): it starts at
// cleanupBackoffMin and doubles up to cleanupBackoffMax.
const (
	cleanupBackoffMin = 50 * time.Millisecond
	cleanupBackoffMax = 2 * time.Second
)

// RetryCleanup calls once until it returns nil, ctx ends, or ended (the
// Done of the session the traces are bound to; nil: never) is closed,
// sleeping between calls for a backoff that starts at 50ms and doubles up
// to 2s. It reports whether once succeeded. The end of ctx is passed to a
// call in flight; ended is looked at between calls.
//
// It is for the clean-up of an acquisition given up (a waiter's place in a
// queue, a hold the attempt may have got) and for a release that could not
// be confirmed: if that fails, what was left blocks the next waiters until
// the session it is bound to ends, which may be never while the client
// lives; once that session has ended the backend removes it. once bounds
// each of its own requests; ctx should end with the driver.
func RetryCleanup(ctx context.Context, ended <-chan struct{}, once func(context.Context) error) bool {
	return retryCleanup(ctx, nil, ended, once)
}

// retryCleanup is RetryCleanup that also stops, between calls, when stop
// or ended is closed (nil: never).
func retryCleanup(ctx context.Context, stop, ended <-chan struct{}, once func(context.Context) error) bool {
	backoff := cleanupBackoffMin
	for {
		if once(ctx) == nil {
			return true
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		case <-stop:
			t.Stop()
			return false
		case <-ended:
			t.Stop()
			return false
		}
		backoff = min(2*backoff, cleanupBackoffMax)
	}
}

// Cleanup is a clean-up retried in a goroutine of its own (see
// StartCleanup).
type Cleanup struct {
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// StartCleanup calls once in a new goroutine, as RetryCleanup does, until
// it succeeds, ctx ends, ended is closed (a nil ended never is) or Stop is
// called. The end of ctx also ends a call in flight; the others let it
// return by itself (once bounds its requests).
func StartCleanup(ctx context.Context, ended <-chan struct{}, once func(context.Context) error) *Cleanup {
	c := &Cleanup{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		retryCleanup(ctx, c.stop, ended, once)
	}()
	return c
}

// Stop ends the clean-up and waits for its goroutine to end: once it
// returns, once is not running and will not be called again. A call in
// flight is let return by itself, not cancelled: a request already sent
// may still be applied, so its reply (or its own deadline) is waited for.
// A driver whose clean-up cannot tell its own traces from those of a later
// acquisition by the same owner calls Stop before that acquisition sends
// anything, so that the two are never in flight together. Stop may be
// called more than once, and after the clean-up has ended by itself.
func (c *Cleanup) Stop() {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
}

// Done is closed when the clean-up's goroutine has ended.
func (c *Cleanup) Done() <-chan struct{} { return c.done }
