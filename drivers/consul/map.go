package consul

import (
	"context"
	"iter"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// consulMap stores each entry in a key <base>/<segment(key)>; the entry's
// version is the key's ModifyIndex, Consul's raft index of the write that
// stored it: unique, never 0, and increasing in commit order across every
// key (so also across Clear and re-creation).
//
// Every write is one /v1/txn request: a precondition and the write are
// operations of the same transaction, and the transaction's answer carries
// the new ModifyIndex.
type consulMap struct {
	primitive
	dir string // base + "/"
}

var _ driver.Map = (*consulMap)(nil)

func newMap(d *Driver, id driver.ID) *consulMap {
	m := &consulMap{}
	m.init(d, kindMap, id)
	m.dir = m.base + "/"
	return m
}

func (m *consulMap) path(key string) string { return m.dir + segment(key) }

// Put stores value, with ifVersion only if the key's ModifyIndex is
// ifVersion (a check-index, which fails on an absent key too): one
// transaction (see WriteWith).
func (m *consulMap) Put(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	return m.WriteWith(ctx, driver.MapPut, key, value, driver.Write{IfVersion: ifVersion})
}

// Insert stores value only if the key is absent: a check-and-set with index
// 0.
func (m *consulMap) Insert(ctx context.Context, key string, value []byte) (driver.Entry, error) {
	if err := m.check(); err != nil {
		return driver.Entry{}, err
	}
	res, rb, err := m.d.txn(ctx, []kvOp{{Verb: api.KVCAS, Key: m.path(key), Value: value, Index: 0}})
	switch {
	case err != nil:
		return driver.Entry{}, err
	case rb != nil:
		return driver.Entry{}, driver.Errorf(driver.ErrAlreadyExists, "")
	}
	return driver.Entry{Key: key, Value: value, Version: res[0].ModifyIndex}, nil
}

// Update replaces an existing value: one transaction of a get (which fails
// if the key is absent), a check-index with ifVersion, and the write (see
// WriteWith).
func (m *consulMap) Update(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	return m.WriteWith(ctx, driver.MapUpdate, key, value, driver.Write{IfVersion: ifVersion})
}

// Get reads the key (default consistency: the leader answers).
func (m *consulMap) Get(ctx context.Context, key string) (driver.Entry, error) {
	if err := m.check(); err != nil {
		return driver.Entry{}, err
	}
	pair, _, err := m.d.kv.Get(m.path(key), m.d.read(ctx))
	if err != nil {
		return driver.Entry{}, classify(ctx, err, reading)
	}
	if pair == nil {
		return driver.Entry{}, errNotFound
	}
	return driver.Entry{Key: key, Value: pair.Value, Version: pair.ModifyIndex}, nil
}

// Remove deletes the key in one transaction of a get (the removed entry,
// and ErrNotFound if absent) and a delete or check-and-delete.
func (m *consulMap) Remove(ctx context.Context, key string, ifVersion uint64) (driver.Entry, error) {
	if err := m.check(); err != nil {
		return driver.Entry{}, err
	}
	path := m.path(key)
	op := kvOp{Verb: api.KVDelete, Key: path}
	if ifVersion != 0 {
		op = kvOp{Verb: api.KVDeleteCAS, Key: path, Index: ifVersion}
	}
	res, rb, err := m.d.txn(ctx, []kvOp{{Verb: api.KVGet, Key: path}, op})
	switch {
	case err != nil:
		return driver.Entry{}, err
	case rb != nil && rb.has(0):
		return driver.Entry{}, errNotFound
	case rb != nil:
		return driver.Entry{}, errVersion
	}
	return driver.Entry{Key: key, Value: res[0].Value, Version: res[0].ModifyIndex}, nil
}

// Len counts the keys (a keys-only listing).
func (m *consulMap) Len(ctx context.Context) (int, error) {
	if err := m.check(); err != nil {
		return 0, err
	}
	keys, _, err := m.d.kv.Keys(m.dir, "", m.d.read(ctx))
	if err != nil {
		return 0, classify(ctx, err, reading)
	}
	return len(keys), nil
}

// Clear deletes every key with one recursive delete: atomic, whatever the
// size of the map.
func (m *consulMap) Clear(ctx context.Context) error {
	if err := m.check(); err != nil {
		return err
	}
	_, err := m.d.apply(ctx, []kvOp{{Verb: api.KVDeleteTree, Key: m.dir}})
	return err
}

// Entries lists the keys (a keys-only listing), then reads their values a
// page at a time (see getMany), in the order of their encoded keys: it
// holds one page of values at once, however large the map. An entry
// removed before its page is read is left out; one written meanwhile is
// yielded as its page found it.
func (m *consulMap) Entries(ctx context.Context) iter.Seq2[driver.Entry, error] {
	return func(yield func(driver.Entry, error) bool) {
		if err := m.check(); err != nil {
			yield(driver.Entry{}, err)
			return
		}
		keys, err := m.d.listKeys(ctx, m.dir)
		if err != nil {
			yield(driver.Entry{}, err)
			return
		}
		m.d.pages(ctx, segmentsOf(m.dir, keys), func(pairs []*api.KVPair, err error) bool {
			if err != nil {
				return yield(driver.Entry{}, err)
			}
			for _, p := range pairs {
				key, _ := unsegment(strings.TrimPrefix(p.Key, m.dir))
				if !yield(mapEntry(key, p), nil) {
					return false
				}
			}
			return true
		})
	}
}

// Watch follows the map with blocking queries on its directory (see the
// package documentation for how Consul's states become events).
func (m *consulMap) Watch(ctx context.Context, ch chan<- driver.EntryEvent) error {
	return m.watchEntries(ctx, m.dir, mapEntry, ch)
}

// mapEntry converts a pair of a Map.
func mapEntry(key string, p *api.KVPair) driver.Entry {
	return driver.Entry{Key: key, Value: p.Value, Version: p.ModifyIndex}
}
