package memory

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/atomix/go-client/driver"
)

// handle is what every primitive instance shares: its connection, its
// closed state, its watch goroutines and the wording of its errors.
type handle struct {
	d    *Driver
	kind string
	name string // the kind and the quoted ID, for messages

	mu       sync.Mutex // guards closing against starting a watch or an acquisition
	closed   atomic.Bool
	closedCh chan struct{}
	watches  sync.WaitGroup

	// onShutdown, if set, runs with mu held when the instance is closed;
	// release is false when the connection crashed.
	onShutdown func(release bool)
}

func newHandle(d *Driver, kind string, id driver.ID) *handle {
	name := kind + " " + strconv.Quote(id.Name)
	if id.Namespace != "" {
		name = kind + " " + strconv.Quote(id.Namespace) + "/" + strconv.Quote(id.Name)
	}
	return &handle{d: d, kind: kind, name: name, closedCh: make(chan struct{})}
}

// begin returns the error that op must fail with before doing anything: the
// instance or the connection is closed, or ctx has ended.
func (h *handle) begin(ctx context.Context, op string) error {
	if h.closed.Load() {
		return fmt.Errorf("memory: %s: %s: %w: the %s was closed", h.name, op, driver.ErrClosed, h.kind)
	}
	if h.d.state.Load() != connOpen {
		return h.d.check(h.name + ": " + op)
	}
	return ctx.Err()
}

// fail returns an error of kind for op, explained by the formatted detail.
func (h *handle) fail(op string, kind error, format string, args ...any) error {
	return fmt.Errorf("memory: %s: %s: %w: %s", h.name, op, kind, fmt.Sprintf(format, args...))
}

// keyOp names an operation on key in an error message.
func keyOp(op, key string) string {
	const maxShown = 64
	if len(key) > maxShown {
		return op + " " + strconv.Quote(key[:maxShown]) + "…"
	}
	return op + " " + strconv.Quote(key)
}

// checkKey rejects a key larger than the store's limit.
func (h *handle) checkKey(op, key string) error {
	if limit := h.d.store.limits.MaxKeySize; limit > 0 && len(key) > limit {
		return h.fail(keyOp(op, key), driver.ErrInvalid, "key of %d bytes exceeds the limit of %d", len(key), limit)
	}
	return nil
}

// checkValue rejects a value larger than the store's limit.
func (h *handle) checkValue(op string, value []byte) error {
	if limit := h.d.store.limits.MaxValueSize; limit > 0 && len(value) > limit {
		return h.fail(op, driver.ErrInvalid, "value of %d bytes exceeds the limit of %d", len(value), limit)
	}
	return nil
}

// checkEntry rejects a key or a value larger than the store's limits.
func (h *handle) checkEntry(op, key string, value []byte) error {
	if err := h.checkKey(op, key); err != nil {
		return err
	}
	if limit := h.d.store.limits.MaxValueSize; limit > 0 && len(value) > limit {
		return h.checkValue(keyOp(op, key), value)
	}
	return nil
}

// Close closes the instance: its watches end (their channels are closed
// before Close returns) and later calls return ErrClosed.
func (h *handle) Close(context.Context) error {
	if !h.shutdown(true) {
		return fmt.Errorf("memory: %s: close: %w: the %s was already closed", h.name, driver.ErrClosed, h.kind)
	}
	h.d.forget(h)
	return nil
}

// shutdown closes the instance and waits for its watches to end. It
// reports false if the instance was already closed.
func (h *handle) shutdown(release bool) bool {
	h.mu.Lock()
	if h.closed.Load() {
		h.mu.Unlock()
		return false
	}
	h.closed.Store(true)
	close(h.closedCh)
	if h.onShutdown != nil {
		h.onShutdown(release)
	}
	h.mu.Unlock()
	h.watches.Wait()
	return true
}

// cloneBytes returns a copy of b that shares nothing with it; never nil.
func cloneBytes(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}
