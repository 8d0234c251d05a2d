package redis

import (
	"context"

	"github.com/atomix/go-client/driver"
)

// open registers a new handle for a primitive of kind with id.
func (d *Driver) open(ctx context.Context, kind string, id driver.ID) (*handle, error) {
	h := &handle{
		d:        d,
		ks:       newKeyspace(d.opts.KeyPrefix, kind, id),
		kind:     driver.Kind(kind),
		id:       id,
		closedCh: make(chan struct{}),
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return nil, err
	}
	d.handles[h] = struct{}{}
	return h, nil
}

// forget unregisters a closed handle.
func (d *Driver) forget(h *handle) {
	d.mu.Lock()
	delete(d.handles, h)
	d.mu.Unlock()
}

// OpenCounter opens a counter. It does not contact the server.
func (d *Driver) OpenCounter(ctx context.Context, id driver.ID) (driver.Counter, error) {
	h, err := d.open(ctx, "counter", id)
	if err != nil {
		return nil, err
	}
	return newCounter(h), nil
}

// OpenLock opens a lock. It does not contact the server.
func (d *Driver) OpenLock(ctx context.Context, id driver.ID) (driver.Lock, error) {
	h, err := d.open(ctx, "lock", id)
	if err != nil {
		return nil, err
	}
	return newLock(h), nil
}

// OpenElection opens an election. It does not contact the server.
func (d *Driver) OpenElection(ctx context.Context, id driver.ID) (driver.Election, error) {
	h, err := d.open(ctx, "election", id)
	if err != nil {
		return nil, err
	}
	return newElection(h), nil
}

// OpenMap opens a map. It does not contact the server.
func (d *Driver) OpenMap(ctx context.Context, id driver.ID) (driver.Map, error) {
	h, err := d.open(ctx, "map", id)
	if err != nil {
		return nil, err
	}
	return newMap(h), nil
}

// OpenSet opens a set. It does not contact the server.
func (d *Driver) OpenSet(ctx context.Context, id driver.ID) (driver.Set, error) {
	h, err := d.open(ctx, "set", id)
	if err != nil {
		return nil, err
	}
	return newSet(h), nil
}

// OpenValue opens a value. It does not contact the server.
func (d *Driver) OpenValue(ctx context.Context, id driver.ID) (driver.Value, error) {
	h, err := d.open(ctx, "value", id)
	if err != nil {
		return nil, err
	}
	return newValue(h), nil
}

// OpenList opens a list. It does not contact the server.
func (d *Driver) OpenList(ctx context.Context, id driver.ID) (driver.List, error) {
	h, err := d.open(ctx, "list", id)
	if err != nil {
		return nil, err
	}
	return newList(h), nil
}

// OpenIndexedMap opens an indexed map. It does not contact the server.
func (d *Driver) OpenIndexedMap(ctx context.Context, id driver.ID) (driver.IndexedMap, error) {
	h, err := d.open(ctx, "indexedmap", id)
	if err != nil {
		return nil, err
	}
	return newIndexedMap(h), nil
}
