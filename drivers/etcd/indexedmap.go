package etcd

import (
	"context"
	"iter"
	"math"
	"strconv"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
)

// etcdIndexedMap is a driver.IndexedMap. Each entry is stored twice, so
// that it can be reached in one request both by key and by index, and both
// copies are written in the same transaction:
//
//   - rootKey + "/k/" + key holds the entry's index (8 bytes, big-endian)
//     followed by its value;
//   - rootKey + "/i/" + 16 hex digits of the index holds the key
//     (uvarint length, then bytes) followed by the value, so index order is
//     key order and First/Last/Prev/Next/Entries are range reads;
//   - rootKey + "/n" holds the last index assigned, in decimal. Clear keeps
//     it, so indexes are never reused.
//
// An entry's version is the mod revision of its keys. Append is one
// transaction guarded by "n"'s mod revision as last seen by this instance
// (a retry costs one more round trip, as for Counter.Add). Update and
// Remove by key read the key's index first and then write in one
// transaction guarded by the key's mod revision: two round trips. Values
// are stored twice, which is why the driver's MaxValueSize is a third of
// etcd's default request limit.
type etcdIndexedMap struct {
	primitive
	counterKey string
	keyPrefix  string
	keyEnd     string
	idxPrefix  string
	idxEnd     string

	mu       sync.Mutex
	last     uint64 // last index seen in "n"
	lastRev  int64  // its mod revision
	observed int64
}

var _ driver.IndexedMap = (*etcdIndexedMap)(nil)

func newIndexedMap(d *Driver, id driver.ID) *etcdIndexedMap {
	m := &etcdIndexedMap{primitive: newPrimitive(d, kindIndexedMap, id)}
	m.counterKey = m.root + "/n"
	m.keyPrefix = m.root + "/k/"
	m.keyEnd = rangeEnd(m.keyPrefix)
	m.idxPrefix = m.root + "/i/"
	m.idxEnd = rangeEnd(m.idxPrefix)
	return m
}

func (m *etcdIndexedMap) byKey(key string) string     { return m.keyPrefix + key }
func (m *etcdIndexedMap) byIndex(index uint64) string { return indexKey(m.idxPrefix, index) }
func (m *etcdIndexedMap) remember(last uint64, rev, observed int64) {
	m.mu.Lock()
	if observed >= m.observed {
		m.last, m.lastRev, m.observed = last, rev, observed
	}
	m.mu.Unlock()
}

// Append assigns the next index and writes both copies of the entry.
func (m *etcdIndexedMap) Append(ctx context.Context, key string, value []byte) (driver.Entry, error) {
	m.mu.Lock()
	last, lastRev := m.last, m.lastRev
	m.mu.Unlock()
	k := m.byKey(key)
	for {
		index := last + 1
		resp, err := m.txn(ctx, write,
			[]clientv3.Cmp{
				clientv3.Compare(clientv3.ModRevision(m.counterKey), "=", lastRev),
				clientv3.Compare(clientv3.CreateRevision(k), "=", 0),
			},
			[]clientv3.Op{
				clientv3.OpPut(m.counterKey, strconv.FormatUint(index, 10)),
				clientv3.OpPut(k, encodeKeyRecord(index, value)),
				clientv3.OpPut(m.byIndex(index), encodeIndexRecord(key, value)),
			},
			[]clientv3.Op{clientv3.OpGet(m.counterKey), clientv3.OpGet(k, clientv3.WithCountOnly())})
		if err != nil {
			return driver.Entry{}, err
		}
		if resp.Succeeded {
			m.remember(index, resp.Header.Revision, resp.Header.Revision)
			return driver.Entry{Key: key, Value: value, Version: uint64(resp.Header.Revision), Index: index}, nil
		}
		if resp.Responses[1].GetResponseRange().Count > 0 {
			return driver.Entry{}, errAlreadyExists
		}
		last, lastRev = 0, 0
		if kvs := rangeResp(resp, 0); len(kvs) > 0 {
			if last, err = strconv.ParseUint(string(kvs[0].Value), 10, 64); err != nil {
				return driver.Entry{}, driver.Errorf(driver.ErrInvalid, "the index counter holds %q", kvs[0].Value)
			}
			lastRev = kvs[0].ModRevision
		}
		if last == math.MaxUint64 {
			return driver.Entry{}, driver.Errorf(driver.ErrInvalid, "indexes exhausted")
		}
		m.remember(last, lastRev, resp.Header.Revision)
	}
}

// Update rewrites both copies of an existing entry, keeping its index.
func (m *etcdIndexedMap) Update(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	k := m.byKey(key)
	resp, err := m.get(ctx, k)
	if err != nil {
		return driver.Entry{}, err
	}
	kvs := resp.Kvs
	for {
		cur, err := m.current(kvs, ifVersion)
		if err != nil {
			return driver.Entry{}, err
		}
		resp, err := m.txn(ctx, write,
			[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(k), "=", int64(cur.Version))},
			[]clientv3.Op{
				clientv3.OpPut(k, encodeKeyRecord(cur.Index, value)),
				clientv3.OpPut(m.byIndex(cur.Index), encodeIndexRecord(key, value)),
			},
			[]clientv3.Op{clientv3.OpGet(k)})
		if err != nil {
			return driver.Entry{}, err
		}
		if resp.Succeeded {
			return driver.Entry{Key: key, Value: value, Version: uint64(resp.Header.Revision), Index: cur.Index}, nil
		}
		kvs = rangeResp(resp, 0)
	}
}

// current decodes the entry of key from a read, checking that it exists and
// has version ifVersion (when not 0).
func (m *etcdIndexedMap) current(kvs []*mvccKV, ifVersion uint64) (driver.Entry, error) {
	if len(kvs) == 0 {
		return driver.Entry{}, errNotFound
	}
	e, err := m.entryFromKey(kvs[0])
	if err != nil {
		return driver.Entry{}, err
	}
	if ifVersion != 0 && e.Version != ifVersion {
		return driver.Entry{}, notAtVersion(ifVersion)
	}
	return e, nil
}

// Remove deletes both copies of the entry of key.
func (m *etcdIndexedMap) Remove(ctx context.Context, key string, ifVersion uint64) (driver.Entry, error) {
	k := m.byKey(key)
	resp, err := m.get(ctx, k)
	if err != nil {
		return driver.Entry{}, err
	}
	kvs := resp.Kvs
	for {
		cur, err := m.current(kvs, ifVersion)
		if err != nil {
			return driver.Entry{}, err
		}
		resp, err := m.txn(ctx, write,
			[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(k), "=", int64(cur.Version))},
			[]clientv3.Op{clientv3.OpDelete(k), clientv3.OpDelete(m.byIndex(cur.Index))},
			[]clientv3.Op{clientv3.OpGet(k)})
		if err != nil {
			return driver.Entry{}, err
		}
		if resp.Succeeded {
			return cur, nil
		}
		kvs = rangeResp(resp, 0)
	}
}

// RemoveIndex deletes both copies of the entry at index.
func (m *etcdIndexedMap) RemoveIndex(ctx context.Context, index uint64, ifVersion uint64) (driver.Entry, error) {
	k := m.byIndex(index)
	resp, err := m.get(ctx, k)
	if err != nil {
		return driver.Entry{}, err
	}
	kvs := resp.Kvs
	for {
		if len(kvs) == 0 {
			return driver.Entry{}, errNotFound
		}
		cur, err := m.entryFromIndex(kvs[0])
		if err != nil {
			return driver.Entry{}, err
		}
		if ifVersion != 0 && cur.Version != ifVersion {
			return driver.Entry{}, notAtVersion(ifVersion)
		}
		resp, err := m.txn(ctx, write,
			[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(k), "=", int64(cur.Version))},
			[]clientv3.Op{clientv3.OpDelete(k), clientv3.OpDelete(m.byKey(cur.Key))},
			[]clientv3.Op{clientv3.OpGet(k)})
		if err != nil {
			return driver.Entry{}, err
		}
		if resp.Succeeded {
			return cur, nil
		}
		kvs = rangeResp(resp, 0)
	}
}

// Len counts the entries.
func (m *etcdIndexedMap) Len(ctx context.Context) (int, error) {
	resp, err := m.get(ctx, m.keyPrefix, clientv3.WithRange(m.keyEnd), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return int(resp.Count), nil
}

// Clear deletes both copies of every entry in one transaction, keeping the
// index counter.
func (m *etcdIndexedMap) Clear(ctx context.Context) error {
	_, err := m.txn(ctx, write, nil, []clientv3.Op{
		clientv3.OpDelete(m.keyPrefix, clientv3.WithRange(m.keyEnd)),
		clientv3.OpDelete(m.idxPrefix, clientv3.WithRange(m.idxEnd)),
	}, nil)
	return err
}

// Entries iterates in index order, like Map.Entries.
func (m *etcdIndexedMap) Entries(ctx context.Context) iter.Seq2[driver.Entry, error] {
	return func(yield func(driver.Entry, error) bool) {
		stopped := false
		var decodeErr error
		_, err := m.scan(ctx, m.idxPrefix, m.idxEnd, false, false, func(kv *mvccKV) bool {
			e, err := m.entryFromIndex(kv)
			if err != nil {
				decodeErr = err
				return false
			}
			if !yield(e, nil) {
				stopped = true
				return false
			}
			return true
		})
		if err == nil {
			err = decodeErr
		}
		if err != nil && !stopped {
			yield(driver.Entry{}, err)
		}
	}
}

// Watch sends one event per entry changed, from the "i/" copies.
func (m *etcdIndexedMap) Watch(ctx context.Context, ch chan<- driver.EntryEvent) error {
	return m.startWatch(ctx, m.idxPrefix, m.idxEnd, rangeWatch{
		changed: func(ctx context.Context, changes []change, _ mirror) bool {
			for _, c := range changes {
				var ev driver.EntryEvent
				var err error
				switch {
				case c.next == nil:
					ev.Type = driver.EventRemoved
					ev.Entry, err = m.entryFromIndex(c.prev)
				case c.prev == nil:
					ev.Type = driver.EventInserted
					ev.Entry, err = m.entryFromIndex(c.next)
				default:
					ev.Type = driver.EventUpdated
					ev.Entry, err = m.entryFromIndex(c.next)
				}
				if err != nil {
					continue // not written by this driver
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
	})
}

// entries returns the entries a mirror of the "i/" keys holds, by key;
// keys this driver did not write are left out.
func (m *etcdIndexedMap) entries(state mirror) map[string]driver.Entry {
	entries := make(map[string]driver.Entry, len(state))
	for _, kv := range state {
		if e, err := m.entryFromIndex(kv); err == nil {
			entries[e.Key] = e
		}
	}
	return entries
}
