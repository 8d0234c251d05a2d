package memory

import (
	"context"
	"fmt"
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

// Store returns the store the driver is connected to.
func (d *Driver) Store() *Store { return d.store }

// Limits reports the store's limits (see [WithLimits]).
func (d *Driver) Limits() driver.Limits { return d.store.limits }

// Close closes the connection: it closes every primitive opened through it
// (ending their watches; a Lock gives up its hold or its wait) and every
// session started through it (releasing their locks and candidacies). The
// store keeps its state. Later calls on the driver, or on anything it
// opened, return an error wrapping [driver.ErrClosed], as does a second
// Close or a Close after [Driver.Crash].
func (d *Driver) Close(context.Context) error {
	handles, sessions, err := d.stop(connClosed)
	if err != nil {
		return err
	}
	for h := range handles {
		h.shutdown(true)
	}
	for s := range sessions {
		s.stopRenewal()
		s.state.end()
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
// sessions one TTL after their last renewal. Crash on a closed or crashed
// driver does nothing.
func (d *Driver) Crash() {
	handles, sessions, err := d.stop(connCrashed)
	if err != nil {
		return
	}
	for s := range sessions {
		s.stopRenewal()
	}
	for h := range handles {
		h.shutdown(false)
	}
}

// stop moves an open connection to state and hands back what it had
// opened.
func (d *Driver) stop(state int32) (map[*handle]struct{}, map[*session]struct{}, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check("close"); err != nil {
		return nil, nil, err
	}
	d.state.Store(state)
	close(d.done)
	handles, sessions := d.handles, d.sessions
	d.handles, d.sessions = nil, nil
	return handles, sessions, nil
}

// check returns an ErrClosed error for op if the connection is not open.
func (d *Driver) check(op string) error {
	switch d.state.Load() {
	case connClosed:
		return fmt.Errorf("memory: %s: %w: the driver was closed", op, driver.ErrClosed)
	case connCrashed:
		return fmt.Errorf("memory: %s: %w: the driver crashed (Driver.Crash)", op, driver.ErrClosed)
	}
	return nil
}

// open registers a new handle for a primitive of kind with id.
func (d *Driver) open(kind string, id driver.ID) (*handle, error) {
	if id.Name == "" {
		return nil, fmt.Errorf("memory: open %s: %w: empty name", kind, driver.ErrInvalid)
	}
	h := newHandle(d, kind, id)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check("open " + kind); err != nil {
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

// OpenCounter opens the counter id.
func (d *Driver) OpenCounter(_ context.Context, id driver.ID) (driver.Counter, error) {
	h, err := d.open("counter", id)
	if err != nil {
		return nil, err
	}
	return &counter{handle: h, state: state(d.store, "counter", id, newCounterState)}, nil
}

// OpenLock opens the lock id; the returned value is one would-be owner.
func (d *Driver) OpenLock(_ context.Context, id driver.ID) (driver.Lock, error) {
	h, err := d.open("lock", id)
	if err != nil {
		return nil, err
	}
	l := &lock{handle: h, state: state(d.store, "lock", id, newLockState)}
	h.onShutdown = l.giveUp
	return l, nil
}

// OpenElection opens the election id.
func (d *Driver) OpenElection(_ context.Context, id driver.ID) (driver.Election, error) {
	h, err := d.open("election", id)
	if err != nil {
		return nil, err
	}
	return &election{handle: h, state: state(d.store, "election", id, newElectionState)}, nil
}

// OpenMap opens the map id.
func (d *Driver) OpenMap(_ context.Context, id driver.ID) (driver.Map, error) {
	h, err := d.open("map", id)
	if err != nil {
		return nil, err
	}
	return &hashMap{handle: h, state: state(d.store, "map", id, newMapState)}, nil
}

// OpenSet opens the set id.
func (d *Driver) OpenSet(_ context.Context, id driver.ID) (driver.Set, error) {
	h, err := d.open("set", id)
	if err != nil {
		return nil, err
	}
	return &set{handle: h, state: state(d.store, "set", id, newSetState)}, nil
}

// OpenValue opens the value id.
func (d *Driver) OpenValue(_ context.Context, id driver.ID) (driver.Value, error) {
	h, err := d.open("value", id)
	if err != nil {
		return nil, err
	}
	return &value{handle: h, state: state(d.store, "value", id, newValueState)}, nil
}

// OpenList opens the list id.
func (d *Driver) OpenList(_ context.Context, id driver.ID) (driver.List, error) {
	h, err := d.open("list", id)
	if err != nil {
		return nil, err
	}
	return &list{handle: h, state: state(d.store, "list", id, newListState)}, nil
}

// OpenIndexedMap opens the indexed map id.
func (d *Driver) OpenIndexedMap(_ context.Context, id driver.ID) (driver.IndexedMap, error) {
	h, err := d.open("indexedmap", id)
	if err != nil {
		return nil, err
	}
	return &indexedMap{handle: h, state: state(d.store, "indexedmap", id, newIndexedMapState)}, nil
}
