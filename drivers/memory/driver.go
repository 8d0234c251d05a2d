package memory

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/atomix/go-client/driver"
)

// The states of a connection.
const (
	connOpen int32 = iota
	connClosed
	connCrashed
)

// Driver is one connection to a [Store]; it implements [driver.Driver].
// Make one with [New], [Store.Connect] or driver.Open("mem://NAME").
// It is safe for concurrent use.
type Driver struct {
	// ObserverSlot makes the driver a driver.Observable: what it reports
	// goes to the Observer of the client that uses it.
	driver.ObserverSlot

	store *Store

	state atomic.Int32  // connOpen, connClosed or connCrashed
	done  chan struct{} // closed when state leaves connOpen

	mu       sync.Mutex // guards the maps and changes of state
	sessions map[*session]struct{}
	handles  map[*handle]struct{}
}

var _ driver.Driver = (*Driver)(nil)

func newDriver(s *Store) *Driver {
	return &Driver{
		store:    s,
		done:     make(chan struct{}),
		sessions: map[*session]struct{}{},
		handles:  map[*handle]struct{}{},
	}
}

// Name returns "memory".
func (d *Driver) Name() string { return "memory" }

// Store returns the store the driver is connected to.
func (d *Driver) Store() *Store { return d.store }

// As sets *target to the driver's [Store] when target is a **Store, and
// reports whether it did. The store is the memory driver's only "backend
// client"; any other target type returns false.
func (d *Driver) As(target any) bool {
	p, ok := target.(**Store)
	if !ok || p == nil {
		return false
	}
	*p = d.store
	return true
}

// Ping reports whether the connection is open: nil, or an error wrapping
// [driver.ErrClosed] once it is closed or crashed, or ctx.Err().
func (d *Driver) Ping(ctx context.Context) error {
	if err := d.check(); err != nil {
		return err
	}
	return ctx.Err()
}

// Limits reports the store's limits (see [WithLimits]).
func (d *Driver) Limits() driver.Limits { return d.store.limits }

// Close closes the connection: it closes every primitive opened through it
// (ending their watches and their Acquire calls) and ends every session
// started through it (releasing their locks and candidacies). The store
// keeps its state. Later calls on the driver, or on anything it opened,
// return an error wrapping [driver.ErrClosed]. A second Close, or a Close
// after [Driver.Crash], does nothing and returns nil.
func (d *Driver) Close(context.Context) error {
	handles, sessions := d.stop(connClosed)
	for h := range handles {
		h.shutdown()
	}
	for s := range sessions {
		s.state.end(ErrSessionClosed)
	}
	return nil
}

// Crash makes the connection vanish as if its process had died. It is a test
// aid, used by the conformance harness and by tests of failover.
//
// The connection stops renewing its sessions and every later call on it or
// on anything it opened returns an error wrapping [driver.ErrClosed]; calls
// blocked in it (Lock.Acquire) return the same error, and its watches end.
// Nothing is released: locks held and candidacies entered through its
// sessions stay, as do its queued lock waiters, until the store expires the
// sessions one TTL after the crash. Crash on a closed or crashed driver
// does nothing.
func (d *Driver) Crash() {
	handles, sessions := d.stop(connCrashed)
	for s := range sessions {
		s.state.abandon()
	}
	for h := range handles {
		h.shutdown()
	}
}

// stop moves an open connection to state and hands back what it had
// opened; on a connection that is not open it does nothing.
func (d *Driver) stop(state int32) (map[*handle]struct{}, map[*session]struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.check() != nil {
		return nil, nil
	}
	d.state.Store(state)
	close(d.done)
	handles, sessions := d.handles, d.sessions
	d.handles, d.sessions = nil, nil
	return handles, sessions
}

// check returns an ErrClosed error if the connection is not open.
func (d *Driver) check() error {
	switch d.state.Load() {
	case connClosed:
		return errDriverClosed
	case connCrashed:
		return errDriverCrashed
	}
	return nil
}

// open registers a new handle for a primitive instance.
func (d *Driver) open() (*handle, error) {
	h := newHandle(d)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return nil, err
	}
	d.handles[h] = struct{}{}
	return h, nil
}

// forget unregisters a handle closed by its owner.
func (d *Driver) forget(h *handle) {
	d.mu.Lock()
	delete(d.handles, h)
	d.mu.Unlock()
}
