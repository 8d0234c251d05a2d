package etcd

import (
	"context"
	"iter"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
)

// etcdMap is a driver.Map: each entry is the key rootKey + "/" + key, and
// an entry's version is the key's mod revision. Every precondition is a
// compare in the same transaction as the write.
type etcdMap struct {
	primitive
	prefix string // rootKey + "/"
	end    string
}

var _ driver.Map = (*etcdMap)(nil)

func newMap(d *Driver, id driver.ID) *etcdMap {
	m := &etcdMap{primitive: newPrimitive(d, kindMap, id)}
	m.prefix = m.root + "/"
	m.end = rangeEnd(m.prefix)
	return m
}

func (m *etcdMap) entryKey(key string) string { return m.prefix + key }

// entry returns the map entry a stored key-value pair holds.
func (m *etcdMap) entry(kv *mvccKV) driver.Entry {
	return driver.Entry{Key: string(kv.Key[len(m.prefix):]), Value: kv.Value, Version: uint64(kv.ModRevision)}
}

// Put stores value, in one put, or with ifVersion in one transaction
// comparing the key's mod revision.
func (m *etcdMap) Put(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	k := m.entryKey(key)
	if ifVersion == 0 {
		resp, err := m.put(ctx, k, value)
		if err != nil {
			return driver.Entry{}, err
		}
		return driver.Entry{Key: key, Value: value, Version: uint64(resp.Header.Revision)}, nil
	}
	resp, err := m.txn(ctx, write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(k), "=", int64(ifVersion))},
		[]clientv3.Op{clientv3.OpPut(k, string(value))}, nil)
	if err != nil {
		return driver.Entry{}, err
	}
	if !resp.Succeeded {
		return driver.Entry{}, notAtVersion(ifVersion)
	}
	return driver.Entry{Key: key, Value: value, Version: uint64(resp.Header.Revision)}, nil
}

// Insert stores value if key is absent: one transaction comparing the key's
// create revision with 0.
func (m *etcdMap) Insert(ctx context.Context, key string, value []byte) (driver.Entry, error) {
	k := m.entryKey(key)
	resp, err := m.txn(ctx, write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(k), "=", 0)},
		[]clientv3.Op{clientv3.OpPut(k, string(value))}, nil)
	if err != nil {
		return driver.Entry{}, err
	}
	if !resp.Succeeded {
		return driver.Entry{}, errAlreadyExists
	}
	return driver.Entry{Key: key, Value: value, Version: uint64(resp.Header.Revision)}, nil
}

// Update replaces an existing key's value in one transaction; its else
// branch counts the key to tell ErrNotFound from ErrConflict.
func (m *etcdMap) Update(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	k := m.entryKey(key)
	resp, err := m.txn(ctx, write,
		[]clientv3.Cmp{versionCmp(k, ifVersion)},
		[]clientv3.Op{clientv3.OpPut(k, string(value))},
		[]clientv3.Op{clientv3.OpGet(k, clientv3.WithCountOnly())})
	if err != nil {
		return driver.Entry{}, err
	}
	if !resp.Succeeded {
		return driver.Entry{}, missingOrConflict(ifVersion, resp)
	}
	return driver.Entry{Key: key, Value: value, Version: uint64(resp.Header.Revision)}, nil
}

// Get returns the entry of key.
func (m *etcdMap) Get(ctx context.Context, key string) (driver.Entry, error) {
	resp, err := m.get(ctx, m.entryKey(key))
	if err != nil {
		return driver.Entry{}, err
	}
	if len(resp.Kvs) == 0 {
		return driver.Entry{}, errNotFound
	}
	return m.entry(resp.Kvs[0]), nil
}

// Remove deletes key and returns its entry (the delete's previous value), in
// one delete, or with ifVersion in one transaction.
func (m *etcdMap) Remove(ctx context.Context, key string, ifVersion uint64) (driver.Entry, error) {
	k := m.entryKey(key)
	if ifVersion == 0 {
		resp, err := m.del(ctx, k, clientv3.WithPrevKV())
		if err != nil {
			return driver.Entry{}, err
		}
		if len(resp.PrevKvs) == 0 {
			return driver.Entry{}, errNotFound
		}
		return m.entry(resp.PrevKvs[0]), nil
	}
	resp, err := m.txn(ctx, write,
		[]clientv3.Cmp{versionCmp(k, ifVersion)},
		[]clientv3.Op{clientv3.OpDelete(k, clientv3.WithPrevKV())},
		[]clientv3.Op{clientv3.OpGet(k, clientv3.WithCountOnly())})
	if err != nil {
		return driver.Entry{}, err
	}
	if !resp.Succeeded {
		return driver.Entry{}, missingOrConflict(ifVersion, resp)
	}
	return m.entry(resp.Responses[0].GetResponseDeleteRange().PrevKvs[0]), nil
}

// Len counts the keys.
func (m *etcdMap) Len(ctx context.Context) (int, error) {
	resp, err := m.get(ctx, m.prefix, clientv3.WithRange(m.end), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return int(resp.Count), nil
}

// Clear deletes every key in one range delete; watchers see one removal per
// key.
func (m *etcdMap) Clear(ctx context.Context) error {
	_, err := m.del(ctx, m.prefix, clientv3.WithRange(m.end))
	return err
}

// Entries iterates in key order, a page at a time, all pages read at the
// revision of the first one (or, if that revision is compacted meanwhile,
// at the latest one, which still yields every entry that lived throughout
// exactly once).
func (m *etcdMap) Entries(ctx context.Context) iter.Seq2[driver.Entry, error] {
	return func(yield func(driver.Entry, error) bool) {
		stopped := false
		_, err := m.scan(ctx, m.prefix, m.end, false, false, func(kv *mvccKV) bool {
			if !yield(m.entry(kv), nil) {
				stopped = true
				return false
			}
			return true
		})
		if err != nil && !stopped {
			yield(driver.Entry{}, err)
		}
	}
}

// Watch sends a change event per key changed.
func (m *etcdMap) Watch(ctx context.Context, ch chan<- driver.EntryEvent) error {
	return m.startWatch(ctx, m.prefix, m.end, m.watcher(ch))
}

// watcher turns the changes of the map's range into events on ch.
func (m *etcdMap) watcher(ch chan<- driver.EntryEvent) rangeWatch {
	return rangeWatch{
		changed: func(ctx context.Context, changes []change, _ mirror) bool {
			for _, c := range changes {
				var ev driver.EntryEvent
				switch {
				case c.next == nil:
					ev = driver.EntryEvent{Type: driver.EventRemoved, Entry: m.entry(c.prev)}
				case c.prev == nil:
					ev = driver.EntryEvent{Type: driver.EventInserted, Entry: m.entry(c.next)}
				default:
					ev = driver.EntryEvent{Type: driver.EventUpdated, Entry: m.entry(c.next)}
				}
				if !send(ctx, ch, ev) {
					return false
				}
			}
			return true
		},
		resynced: func(ctx context.Context, old, fresh mirror) bool {
			return sendAll(ctx, ch, resync.Entries(m.entries(old), m.entries(fresh)))
		},
		finish: func() { close(ch) },
	}
}

// entries returns the map entries a mirror holds, by key.
func (m *etcdMap) entries(state mirror) map[string]driver.Entry {
	entries := make(map[string]driver.Entry, len(state))
	for _, kv := range state {
		e := m.entry(kv)
		entries[e.Key] = e
	}
	return entries
}

// versionCmp is "key exists", or "key is at version v" when v != 0.
func versionCmp(key string, v uint64) clientv3.Cmp {
	if v == 0 {
		return clientv3.Compare(clientv3.CreateRevision(key), ">", 0)
	}
	return clientv3.Compare(clientv3.ModRevision(key), "=", int64(v))
}

// missingOrConflict reads the count that a failed transaction's else branch
// returned as its first operation.
func missingOrConflict(ifVersion uint64, resp *clientv3.TxnResponse) error {
	if resp.Responses[0].GetResponseRange().Count == 0 {
		return errNotFound
	}
	return notAtVersion(ifVersion)
}
