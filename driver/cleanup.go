package driver

import (
	"context"
	"time"
)

// The backoff between tries of a clean-up (see RetryCleanup): it starts at
// cleanupBackoffMin and doubles up to cleanupBackoffMax.
const (
	cleanupBackoffMin = 50 * time.Millisecond
	cleanupBackoffMax = 2 * time.Second
)

// RetryCleanup calls once until it returns nil or ctx ends, sleeping
// between calls for a backoff that starts at 50ms and doubles up to 2s. It
// reports whether once succeeded.
//
// It is for the clean-up of an acquisition given up (a waiter's place in a
// queue, a hold the attempt may have got): if that fails, what was left
// blocks the next waiters until the session it is bound to ends, which may
// be never while the client lives. once bounds each of its own requests;
// ctx should end with that session and with the driver.
func RetryCleanup(ctx context.Context, once func(context.Context) error) bool {
	backoff := cleanupBackoffMin
	for {
		if once(ctx) == nil {
			return true
		}
		if !Sleep(ctx, backoff) {
			return false
		}
		backoff = min(2*backoff, cleanupBackoffMax)
	}
}

// Cleanup is a clean-up retried in a goroutine of its own (see
// StartCleanup).
type Cleanup struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// StartCleanup runs RetryCleanup(ctx, once) in a new goroutine, which ends
// when once succeeds, when ctx ends, when ended is closed (a nil ended is
// never closed), or when Stop is called. Each of these ends the context
// once is called with, so that a request in flight is given up.
func StartCleanup(ctx context.Context, ended <-chan struct{}, once func(context.Context) error) *Cleanup {
	ctx, cancel := context.WithCancel(ctx)
	c := &Cleanup{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			select {
			case <-ended:
				cancel()
			case <-ctx.Done():
			}
		}()
		RetryCleanup(ctx, once)
		cancel()
		<-watched
	}()
	return c
}

// Stop ends the clean-up and waits for its goroutine to end: once it
// returns, once is not running and will not be called again. A driver
// whose clean-up cannot tell its own traces from those of a later
// acquisition by the same owner calls Stop before that acquisition sends
// anything. Stop may be called more than once, and after the clean-up has
// ended by itself.
func (c *Cleanup) Stop() {
	c.cancel()
	<-c.done
}

// Done is closed when the clean-up's goroutine has ended.
func (c *Cleanup) Done() <-chan struct{} { return c.done }
