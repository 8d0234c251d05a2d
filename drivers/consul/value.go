package consul

import (
	"context"
	"fmt"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// consulValue is one key, <base>; its version is the key's ModifyIndex.
type consulValue struct {
	primitive
}

var _ driver.Value = (*consulValue)(nil)

func newValue(d *Driver, id driver.ID) *consulValue {
	v := &consulValue{}
	v.init(d, kindValue, id)
	return v
}

// Set writes the key in a transaction (a set, or with ifVersion a
// check-and-set, which also fails when the key is absent) whose answer
// carries the new ModifyIndex.
func (v *consulValue) Set(ctx context.Context, value []byte, ifVersion uint64) (uint64, error) {
	if err := v.check("set"); err != nil {
		return 0, err
	}
	op := kvOp{Verb: api.KVSet, Key: v.base, Value: value}
	if ifVersion != 0 {
		op = kvOp{Verb: api.KVCAS, Key: v.base, Value: value, Index: ifVersion}
	}
	res, rb, err := v.d.txn(ctx, "value set", []kvOp{op})
	switch {
	case err != nil:
		return 0, err
	case rb != nil:
		return 0, fmt.Errorf("%w: consul value set: version is not %d", driver.ErrConflict, ifVersion)
	}
	return res[0].ModifyIndex, nil
}

// Get reads the key.
func (v *consulValue) Get(ctx context.Context) ([]byte, uint64, error) {
	if err := v.check("get"); err != nil {
		return nil, 0, err
	}
	pair, _, err := v.d.kv.Get(v.base, read(ctx))
	if err != nil {
		return nil, 0, classify(ctx, "value get", err, reading)
	}
	if pair == nil {
		return nil, 0, fmt.Errorf("%w: consul value get", driver.ErrNotFound)
	}
	return pair.Value, pair.ModifyIndex, nil
}

// Delete removes the key in a transaction of a get (ErrNotFound) and a
// delete or check-and-delete (ErrConflict).
func (v *consulValue) Delete(ctx context.Context, ifVersion uint64) error {
	if err := v.check("delete"); err != nil {
		return err
	}
	op := kvOp{Verb: api.KVDelete, Key: v.base}
	if ifVersion != 0 {
		op = kvOp{Verb: api.KVDeleteCAS, Key: v.base, Index: ifVersion}
	}
	_, rb, err := v.d.txn(ctx, "value delete", []kvOp{{Verb: api.KVGet, Key: v.base}, op})
	switch {
	case err != nil:
		return err
	case rb != nil && rb.has(0):
		return fmt.Errorf("%w: consul value delete", driver.ErrNotFound)
	case rb != nil:
		return fmt.Errorf("%w: consul value delete: version is not %d", driver.ErrConflict, ifVersion)
	}
	return nil
}

// Watch follows the key with blocking queries. Writes between two answers
// merge: the watcher sees the last of them (see the package documentation).
func (v *consulValue) Watch(ctx context.Context, ch chan<- driver.ValueEvent) error {
	if err := v.check("watch"); err != nil {
		return err
	}
	last, meta, err := v.d.kv.Get(v.base, read(ctx))
	if err != nil {
		return classify(ctx, "value watch", err, reading)
	}
	wctx, cancel := v.watchContext(ctx)
	go func() {
		defer close(ch)
		defer cancel()
		follow(wctx, v.d, meta.LastIndex, func(q *api.QueryOptions) (*api.KVPair, *api.QueryMeta, error) {
			return v.d.kv.Get(v.base, q)
		}, func(next *api.KVPair) bool {
			for _, ev := range diffValue(last, next) {
				if !send(wctx, ch, ev) {
					return false
				}
			}
			last = next
			return true
		})
	}()
	return nil
}

// diffValue returns the events that turn old into next (nil = absent).
func diffValue(old, next *api.KVPair) []driver.ValueEvent {
	var events []driver.ValueEvent
	recreated := old != nil && next != nil && old.CreateIndex != next.CreateIndex
	if old != nil && (next == nil || recreated) {
		events = append(events, driver.ValueEvent{Type: driver.EventRemoved, Value: old.Value, Version: old.ModifyIndex})
	}
	switch {
	case next == nil:
	case old == nil || recreated:
		events = append(events, driver.ValueEvent{Type: driver.EventInserted, Value: next.Value, Version: next.ModifyIndex})
	case old.ModifyIndex != next.ModifyIndex:
		events = append(events, driver.ValueEvent{Type: driver.EventUpdated, Value: next.Value, Version: next.ModifyIndex})
	}
	return events
}
