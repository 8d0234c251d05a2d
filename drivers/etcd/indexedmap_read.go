package etcd

import (
	"context"
	"math"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// The reads of an indexed map: one request each, by key from the "k/"
// records, by index and in index order from the "i/" records.

// Get reads the entry by key.
func (m *etcdIndexedMap) Get(ctx context.Context, key string) (driver.Entry, error) {
	resp, err := m.get(ctx, m.byKey(key))
	if err != nil {
		return driver.Entry{}, err
	}
	return m.current(resp.Kvs, 0)
}

// GetIndex reads the entry by index.
func (m *etcdIndexedMap) GetIndex(ctx context.Context, index uint64) (driver.Entry, error) {
	return m.one(ctx, m.byIndex(index))
}

// First finds the entry with the lowest index (see firstFrom): one round
// trip when this instance knows the index counter and the first entry is
// among the lowest indexes.
func (m *etcdIndexedMap) First(ctx context.Context) (driver.Entry, error) {
	return m.firstFrom(ctx, 0)
}

// Last finds the entry with the highest index (see lastBelow): one round
// trip when this instance knows the index counter and the last entry is
// among the tailWindow highest indexes.
func (m *etcdIndexedMap) Last(ctx context.Context) (driver.Entry, error) {
	return m.lastBelow(ctx, math.MaxUint64)
}

// Prev finds the entry with the highest index below index (see lastBelow).
func (m *etcdIndexedMap) Prev(ctx context.Context, index uint64) (driver.Entry, error) {
	return m.lastBelow(ctx, index)
}

// Next reads the entry with the lowest index above index.
func (m *etcdIndexedMap) Next(ctx context.Context, index uint64) (driver.Entry, error) {
	if index == math.MaxUint64 {
		return driver.Entry{}, errNotFound
	}
	return m.firstFrom(ctx, index+1)
}

// one reads at most one "i/" key and decodes it, or fails with ErrNotFound.
func (m *etcdIndexedMap) one(ctx context.Context, key string, opts ...clientv3.OpOption) (driver.Entry, error) {
	resp, err := m.get(ctx, key, opts...)
	if err != nil {
		return driver.Entry{}, err
	}
	if len(resp.Kvs) == 0 {
		return driver.Entry{}, errNotFound
	}
	return m.entryFromIndex(resp.Kvs[0])
}
