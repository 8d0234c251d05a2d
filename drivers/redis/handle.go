package redis

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// handle is what every primitive instance shares: its driver, its keys, its
// closed state, its watch goroutines and the wording of its errors.
type handle struct {
	d    *Driver
	kind string
	what string // the kind and the quoted ID, for messages
	ks   keyspace

	mu       sync.Mutex // orders closing against starting a watch
	closed   atomic.Bool
	closedCh chan struct{}
	watches  sync.WaitGroup

	// onShutdown, if set, runs when the instance is closed, before its
	// watches are waited for; release is false when the driver crashed.
	onShutdown func(ctx context.Context, release bool)
}

func (h *handle) client() goredis.UniversalClient { return h.d.client }

// begin returns the error op must fail with before doing anything: the
// instance or the driver is closed, or ctx has ended.
func (h *handle) begin(ctx context.Context, op string) error {
	if h.closed.Load() {
		return h.closedError(op)
	}
	if err := h.d.check(h.what + ": " + op); err != nil {
		return err
	}
	return ctx.Err()
}

func (h *handle) closedError(op string) error {
	if err := h.d.check(h.what + ": " + op); err != nil {
		return err
	}
	return fmt.Errorf("redis: %s: %s: %w: the %s was closed", h.what, op, driver.ErrClosed, h.kind)
}

// fail classifies err, from go-redis, for op; write says whether op may
// have changed state.
func (h *handle) fail(ctx context.Context, op string, err error, write bool) error {
	if h.closed.Load() || h.d.state.Load() != stateOpen {
		return h.closedError(op)
	}
	return wrapError(ctx, h.what, op, err, write)
}

// failf returns an error of kind for op, explained by the formatted detail.
func (h *handle) failf(op string, kind error, format string, args ...any) error {
	return fmt.Errorf("redis: %s: %s: %w: %s", h.what, op, kind, fmt.Sprintf(format, args...))
}

// checkKey rejects a key larger than the driver's limit.
func (h *handle) checkKey(op, key string) error {
	if limit := h.d.opts.MaxKeySize; len(key) > limit {
		return h.failf(keyOp(op, key), driver.ErrInvalid, "key of %d bytes exceeds the limit of %d", len(key), limit)
	}
	return nil
}

// checkValue rejects a value larger than the driver's limit.
func (h *handle) checkValue(op string, value []byte) error {
	if limit := h.d.opts.MaxValueSize; len(value) > limit {
		return h.failf(op, driver.ErrInvalid, "value of %d bytes exceeds the limit of %d", len(value), limit)
	}
	return nil
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
// before Close returns) and later calls return ErrClosed.
func (h *handle) Close(ctx context.Context) error {
	if err := h.d.check(h.what + ": close"); err != nil {
		return err
	}
	if !h.shutdown(ctx, true) {
		return fmt.Errorf("redis: %s: close: %w: the %s was already closed", h.what, driver.ErrClosed, h.kind)
	}
	h.d.forget(h)
	return nil
}

// shutdown closes the instance and waits for its watches to end. It
// reports false if the instance was already closed.
func (h *handle) shutdown(ctx context.Context, release bool) bool {
	h.mu.Lock()
	if h.closed.Load() {
		h.mu.Unlock()
		return false
	}
	h.closed.Store(true)
	close(h.closedCh)
	h.mu.Unlock()
	if h.onShutdown != nil {
		h.onShutdown(ctx, release)
	}
	h.watches.Wait()
	return true
}

// writeEntry runs s, a map-like write script called with (channel, mode,
// key, value, required version), after the checks every such write needs,
// and classifies its status: 1 stored, 0 the key is absent, -2 it is
// present, anything else the version precondition failed. It returns the
// reply's fields after the status, at least want of them.
func (h *handle) writeEntry(ctx context.Context, s *script, keys []string, op, mode, key string, value []byte, ifVersion uint64, want int) ([]any, error) {
	if err := h.begin(ctx, op); err != nil {
		return nil, err
	}
	if err := h.checkKey(op, key); err != nil {
		return nil, err
	}
	what := keyOp(op, key)
	if err := h.checkValue(what, value); err != nil {
		return nil, err
	}
	r, err := s.run(ctx, h.client(), keys, h.ks.channel(), mode, key, value, versionBytes(ifVersion))
	if err != nil {
		return nil, h.fail(ctx, what, err, true)
	}
	a, err := replyArray(r, 1)
	if err != nil {
		return nil, h.fail(ctx, what, err, true)
	}
	switch status, _ := replyInt(a[0]); status {
	case 1:
	case 0:
		return nil, h.failf(what, driver.ErrNotFound, "no such key")
	case -2:
		return nil, h.failf(what, driver.ErrAlreadyExists, "the key is present")
	default:
		if ifVersion == 0 {
			return nil, h.failf(what, driver.ErrConflict, "precondition failed")
		}
		return nil, h.failf(what, driver.ErrConflict, "the entry's version is not %d", ifVersion)
	}
	if len(a) < 1+want {
		return nil, h.fail(ctx, what, badReply("%d fields after the status, want %d", len(a)-1, want), true)
	}
	return a[1:], nil
}
