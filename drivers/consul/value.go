package consul

import (
	"context"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
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
	if err := v.check(); err != nil {
		return 0, err
	}
	op := kvOp{Verb: api.KVSet, Key: v.base, Value: value}
	if ifVersion != 0 {
		op = kvOp{Verb: api.KVCAS, Key: v.base, Value: value, Index: ifVersion}
	}
	res, rb, err := v.d.txn(ctx, []kvOp{op})
	switch {
	case err != nil:
		return 0, err
	case rb != nil:
		return 0, errVersion
	}
	return res[0].ModifyIndex, nil
}

// Get reads the key.
func (v *consulValue) Get(ctx context.Context) ([]byte, uint64, error) {
	if err := v.check(); err != nil {
		return nil, 0, err
	}
	pair, _, err := v.d.kv.Get(v.base, read(ctx))
	if err != nil {
		return nil, 0, classify(ctx, err, reading)
	}
	if pair == nil {
		return nil, 0, errNotFound
	}
	return pair.Value, pair.ModifyIndex, nil
}

// Delete removes the key in a transaction of a get (ErrNotFound) and a
// delete or check-and-delete (ErrConflict).
func (v *consulValue) Delete(ctx context.Context, ifVersion uint64) error {
	if err := v.check(); err != nil {
		return err
	}
	op := kvOp{Verb: api.KVDelete, Key: v.base}
	if ifVersion != 0 {
		op = kvOp{Verb: api.KVDeleteCAS, Key: v.base, Index: ifVersion}
	}
	_, rb, err := v.d.txn(ctx, []kvOp{{Verb: api.KVGet, Key: v.base}, op})
	switch {
	case err != nil:
		return err
	case rb != nil && rb.has(0):
		return errNotFound
	case rb != nil:
		return errVersion
	}
	return nil
}

// Watch follows the key with blocking queries. Writes between two answers
// merge: the watcher sees the last of them (see the package documentation).
func (v *consulValue) Watch(ctx context.Context, ch chan<- driver.ValueEvent) error {
	if err := v.check(); err != nil {
		return err
	}
	pair, meta, err := v.d.kv.Get(v.base, read(ctx))
	if err != nil {
		return classify(ctx, err, reading)
	}
	last := valueState(pair)
	wctx, cancel := v.watchContext(ctx)
	go func() {
		defer close(ch)
		defer cancel()
		follow(wctx, v.d, meta.LastIndex, func(q *api.QueryOptions) (*api.KVPair, *api.QueryMeta, error) {
			return v.d.kv.Get(v.base, q)
		}, func(pair *api.KVPair) bool {
			next := valueState(pair)
			for _, ev := range resync.Value(last, next) {
				if !send(wctx, ch, ev) {
					return false
				}
			}
			last = next
			return true
		}, v.resynced)
	}()
	return nil
}

// valueState is the key as resync.Value takes it: Version 0 when absent.
func valueState(pair *api.KVPair) driver.ValueEvent {
	if pair == nil {
		return driver.ValueEvent{}
	}
	return driver.ValueEvent{Value: pair.Value, Version: pair.ModifyIndex}
}
