package redis

import (
	"context"
	"sync"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// handle is what every primitive instance shares: its driver, its keys, its
// closed state and its watch goroutines.
type handle struct {
	d  *Driver
	ks keyspace
	// kind and id name the primitive to the driver's Observer.
	kind driver.Kind
	id   driver.ID

	mu       sync.Mutex // orders closing against starting a watch
	closed   atomic.Bool
	closedCh chan struct{}
	watches  sync.WaitGroup

	// holding has the watch of every hold taken through this instance
	// that is still watched, by version (see watchGone and holdWatchOf).
	holdingMu sync.Mutex
	holding   map[uint64]*holdWatch
}

func (h *handle) client() goredis.UniversalClient { return h.d.client }

// errInstanceClosed is the error of a call on a closed primitive instance.
var errInstanceClosed = driver.Errorf(driver.ErrClosed, "the primitive was closed")

// begin returns the error an operation must fail with before doing
// anything: the instance or the driver is closed, or ctx has ended.
func (h *handle) begin(ctx context.Context) error {
	if err := h.closedError(); err != nil {
		return err
	}
	return ctx.Err()
}

// closedError returns ErrClosed if the driver or the instance is closed,
// else nil.
func (h *handle) closedError() error {
	if err := h.d.check(); err != nil {
		return err
	}
	if h.closed.Load() {
		return errInstanceClosed
	}
	return nil
}

// fail classifies err, from go-redis; write says whether the operation may
// have changed state.
func (h *handle) fail(ctx context.Context, err error, write bool) error {
	if cerr := h.closedError(); cerr != nil {
		return cerr
	}
	return wrapError(ctx, err, write)
}

// startWatch counts a new watch goroutine, unless the instance is closed.
func (h *handle) startWatch() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return false
	}
	h.watches.Add(1)
	return true
}

// Close closes the instance: its watches end (their channels are closed
// before Close returns) and later calls return ErrClosed. It changes
// nothing on the server. A second Close returns nil.
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

// writeEntry runs s, a map-like write script called with (channel, mode,
// key, value, required version), and classifies its status: 1 stored, 0
// the key is absent, -2 it is present, anything else the version
// precondition failed. It returns the reply's fields after the status, at
// least want of them.
func (h *handle) writeEntry(ctx context.Context, s *script, keys scriptKeys, mode, key string, value []byte, ifVersion uint64, want int) ([]any, error) {
	if err := h.begin(ctx); err != nil {
		return nil, err
	}
	r, err := s.run(ctx, h.client(), keys, h.ks.channelArg(), mode, key, value, versionBytes(ifVersion))
	if err != nil {
		return nil, h.fail(ctx, err, true)
	}
	a, err := replyArray(r, 1)
	if err != nil {
		return nil, h.fail(ctx, err, true)
	}
	switch status, _ := replyInt(a[0]); status {
	case 1:
	case 0:
		return nil, errNoKey
	case -2:
		return nil, driver.Errorf(driver.ErrAlreadyExists, "")
	default:
		return nil, versionConflict(ifVersion)
	}
	if len(a) < 1+want {
		return nil, h.fail(ctx, badReply("%d fields after the status, want %d", len(a)-1, want), true)
	}
	return a[1:], nil
}

// errNoKey is ErrNotFound for a key, element or index that does not exist.
var errNoKey = driver.Errorf(driver.ErrNotFound, "")

// versionConflict is ErrConflict for a version precondition that failed.
func versionConflict(ifVersion uint64) error {
	if ifVersion == 0 {
		return driver.Errorf(driver.ErrConflict, "")
	}
	return driver.Errorf(driver.ErrConflict, "the version is not %d", ifVersion)
}
