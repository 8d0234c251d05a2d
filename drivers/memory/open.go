package memory

import (
	"context"

	"github.com/atomix/go-client/driver"
)

// OpenCounter opens the counter id.
func (d *Driver) OpenCounter(_ context.Context, id driver.ID) (driver.Counter, error) {
	h, err := d.open()
	if err != nil {
		return nil, err
	}
	return &counter{handle: h, state: state(d.store, "counter", id, newCounterState)}, nil
}

// OpenLock opens the lock id. The instance keeps no owner state: any
// number of owners may use it.
func (d *Driver) OpenLock(_ context.Context, id driver.ID) (driver.Lock, error) {
	h, err := d.open()
	if err != nil {
		return nil, err
	}
	return &lock{handle: h, state: state(d.store, "lock", id, newLockState)}, nil
}

// OpenElection opens the election id.
func (d *Driver) OpenElection(_ context.Context, id driver.ID) (driver.Election, error) {
	h, err := d.open()
	if err != nil {
		return nil, err
	}
	return &election{handle: h, state: state(d.store, "election", id, newElectionState)}, nil
}

// OpenMap opens the map id.
func (d *Driver) OpenMap(_ context.Context, id driver.ID) (driver.Map, error) {
	h, err := d.open()
	if err != nil {
		return nil, err
	}
	return &hashMap{handle: h, state: state(d.store, "map", id, newMapState)}, nil
}

// OpenSet opens the set id.
func (d *Driver) OpenSet(_ context.Context, id driver.ID) (driver.Set, error) {
	h, err := d.open()
	if err != nil {
		return nil, err
	}
	return &set{handle: h, state: state(d.store, "set", id, newSetState)}, nil
}

// OpenValue opens the value id.
func (d *Driver) OpenValue(_ context.Context, id driver.ID) (driver.Value, error) {
	h, err := d.open()
	if err != nil {
		return nil, err
	}
	return &value{handle: h, state: state(d.store, "value", id, newValueState)}, nil
}

// OpenList opens the list id.
func (d *Driver) OpenList(_ context.Context, id driver.ID) (driver.List, error) {
	h, err := d.open()
	if err != nil {
		return nil, err
	}
	return &list{handle: h, state: state(d.store, "list", id, newListState)}, nil
}

// OpenIndexedMap opens the indexed map id.
func (d *Driver) OpenIndexedMap(_ context.Context, id driver.ID) (driver.IndexedMap, error) {
	h, err := d.open()
	if err != nil {
		return nil, err
	}
	return &indexedMap{handle: h, state: state(d.store, "indexedmap", id, newIndexedMapState)}, nil
}
