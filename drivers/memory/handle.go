package memory

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/atomix/go-client/driver"
)

// The causes of ErrClosed. Like every error of this driver they name no
// primitive, operation or key: the portable layer adds those once.
var (
	errPrimitiveClosed = driver.Errorf(driver.ErrClosed, "the primitive instance was closed")
	errDriverClosed    = driver.Errorf(driver.ErrClosed, "the connection was closed")
	errDriverCrashed   = driver.Errorf(driver.ErrClosed, "the connection crashed (Driver.Crash)")
)

// handle is what every primitive instance shares: its connection, its
// closed state and its watch goroutines.
type handle struct {
	d *Driver

	mu       sync.Mutex // guards closing against starting a watch
	closed   atomic.Bool
	closedCh chan struct{}
	watches  sync.WaitGroup
}

func newHandle(d *Driver) *handle {
	return &handle{d: d, closedCh: make(chan struct{})}
}

// begin returns the error that an operation must fail with before doing
// anything: the instance or the connection is closed, or ctx has ended
// (nothing has been applied yet, so a write is not ambiguous).
func (h *handle) begin(ctx context.Context) error {
	if h.closed.Load() {
		return errPrimitiveClosed
	}
	if err := h.d.check(); err != nil {
		return err
	}
	return ctx.Err()
}

// Close closes the instance: its watches end (their channels are closed
// before Close returns), an Acquire in progress withdraws its wait, and
// later calls return ErrClosed. It changes nothing else in the store: a
// lock held through the instance stays held. A second Close returns nil.
func (h *handle) Close(context.Context) error {
	if h.shutdown() {
		h.d.forget(h)
	}
	return nil
}

// shutdown closes the instance and waits for its watches to end. It
// reports false if the instance was already closed.
func (h *handle) shutdown() bool {
	h.mu.Lock()
	if h.closed.Load() {
		h.mu.Unlock()
		return false
	}
	h.closed.Store(true)
	close(h.closedCh)
	h.mu.Unlock()
	h.watches.Wait()
	return true
}

// awaitGrant waits until a queued acquisition (of a lock or a semaphore) is
// granted, and returns nil; or until its wait ends otherwise: ctx ends
// (ctx.Err()), the instance or the connection is closed (ErrClosed), or its
// session ends (ErrClosed, once the session's Done is closed). granted and
// gone are the acquisition's channels, ss its session. Unless it returned
// nil, the caller withdraws the wait (a no-op if it already ended), except
// on a crashed connection, which leaves it for the session's expiry as a
// dead process would.
func (h *handle) awaitGrant(ctx context.Context, granted, gone <-chan struct{}, ss *sessionState) error {
	select {
	case <-granted:
		return nil
	case <-gone:
		select {
		case <-granted: // granted, then ended at once
			return nil
		default:
		}
		// Only the end of its session ends a wait that nobody withdrew.
		<-ss.done
		return driver.Errorf(driver.ErrClosed, "session %s ended while waiting", ss.id)
	case <-ctx.Done():
		return ctx.Err()
	case <-h.closedCh:
		return errPrimitiveClosed
	case <-h.d.done:
		return h.d.check()
	}
}

// cloneBytes returns a copy of b that shares nothing with it; never nil.
func cloneBytes(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}
