package redis

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"iter"
	"slices"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
)

var (
	//go:embed lua/map_entry.lua
	mapEntrySource string
	//go:embed lua/map_write.lua
	mapWriteScript string
	//go:embed lua/map_remove.lua
	mapRemoveScript string
	//go:embed lua/map_write_batch.lua
	mapWriteBatchSource string
	// mapWriteSource and mapRemoveSource are map_write.lua and
	// map_remove.lua with the functions they call.
	mapWriteSource  = mapEntrySource + mapWriteScript
	mapRemoveSource = mapEntrySource + mapRemoveScript
	//go:embed lua/clear.lua
	clearSource string
	//go:embed lua/hash_read.lua
	hashReadSource string

	mapWrite      = newScript("map_write", withEphemeral(mapWriteSource), false)
	mapWriteBatch = newScript("map_write_batch", withEphemeral(mapEntrySource+mapWriteBatchSource), false)
	mapRemove     = newScript("map_remove", withEphemeral(mapRemoveSource), false)
	clearAll      = newScript("clear", withCounter(clearSource), false)
	hashRead      = newReadScript("hash_read", hashReadSource)
)

// scanCount is the COUNT hint of the SCAN family and the page size of
// iterations.
const scanCount = 256

// redisMap implements driver.Map with one Redis hash from each key to its
// version (8 big-endian bytes) followed by its value. Get is a plain HGET
// and Len a plain HLEN; every write is one script that checks its
// precondition, bumps the map's version counter, writes and publishes the
// change.
//
// Persistent writes and removals without a fence that find the instance's
// runs in flight at their limit are sent together (see batch.go).
type redisMap struct {
	*handle
	keys   scriptKeys // see ephemeralKeys
	eph    bindable
	writes *batcher
}

func newMap(h *handle) *redisMap {
	m := &redisMap{handle: h, keys: ephemeralKeys(h.ks, "h")}
	m.eph = newBindable(h, "m", m.keys)
	m.writes = newBatcher(h, mapWriteBatch, m.keys, 2, h.ks.channelArg())
	return m
}

func (m *redisMap) Put(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	return m.WriteWith(ctx, driver.MapPut, key, value, driver.Write{IfVersion: ifVersion})
}

func (m *redisMap) Insert(ctx context.Context, key string, value []byte) (driver.Entry, error) {
	return m.WriteWith(ctx, driver.MapInsert, key, value, driver.Write{})
}

func (m *redisMap) Update(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	return m.WriteWith(ctx, driver.MapUpdate, key, value, driver.Write{IfVersion: ifVersion})
}

// Get is a script that first removes the key if it is bound to an expired
// session (see ephemeral.go).
func (m *redisMap) Get(ctx context.Context, key string) (driver.Entry, error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	r, err := m.eph.get(ctx, key)
	if err != nil {
		return driver.Entry{}, err
	}
	if r == nil {
		return driver.Entry{}, errNoKey
	}
	s, err := replyString(r)
	if err != nil {
		return driver.Entry{}, m.fail(ctx, err, false)
	}
	return entryOf(key, s, 1)
}

// entryOf decodes a stored entry with n header fields (1 in a map: the
// version; 2 in an indexed map: the version and the index).
func entryOf(key, stored string, n int) (driver.Entry, error) {
	rec, err := parseRecord(stored, n)
	if err != nil {
		return driver.Entry{}, err
	}
	return driver.Entry{Key: key, Value: bytesOf(rec.value), Version: rec.fields[0], Index: rec.fields[1]}, nil
}

func (m *redisMap) Remove(ctx context.Context, key string, ifVersion uint64) (driver.Entry, error) {
	return m.WriteWith(ctx, driver.MapRemove, key, nil, driver.Write{IfVersion: ifVersion})
}

// removed reads the reply r, err of a map_remove script run, fenced by f
// if not nil.
func (m *redisMap) removed(ctx context.Context, key string, ifVersion uint64, f *driver.Fence, r any, err error) (driver.Entry, error) {
	if err != nil {
		return driver.Entry{}, m.fail(ctx, err, true)
	}
	a, err := replyArray(r, 1)
	if err != nil {
		return driver.Entry{}, m.fail(ctx, err, true)
	}
	switch status, _ := replyInt(a[0]); status {
	case 1:
	case 0:
		return driver.Entry{}, errNoKey
	case fenceRefused:
		return driver.Entry{}, errFence(f)
	default:
		return driver.Entry{}, versionConflict(ifVersion)
	}
	if len(a) < 2 {
		return driver.Entry{}, m.fail(ctx, badReply("no removed entry"), true)
	}
	stored, _ := replyString(a[1])
	e, err := entryOf(key, stored, 1)
	if err != nil {
		return driver.Entry{}, m.fail(ctx, err, true)
	}
	return e, nil
}

func (m *redisMap) Len(ctx context.Context) (int, error) {
	if err := m.begin(ctx); err != nil {
		return 0, err
	}
	n, _, err := m.eph.expired(ctx)
	return n, err
}

func (m *redisMap) Clear(ctx context.Context) error {
	return clearKeys(ctx, m.handle, m.keys.names[1], m.keys.names[0], m.keys.names[2])
}

// clearKeys runs the clear script on the data keys of h.
func clearKeys(ctx context.Context, h *handle, version string, data ...string) error {
	if err := h.begin(ctx); err != nil {
		return err
	}
	keys := keysOf(append([]string{version}, data...)...)
	if _, err := clearAll.run(ctx, h.client(), keys, h.ks.channelArg()); err != nil {
		return h.fail(ctx, err, true)
	}
	return nil
}

// Entries learns the expired ephemeral entries, then iterates with HSCAN,
// leaving them out.
// HSCAN may return a key twice (when the hash is rehashed meanwhile), so
// the iteration remembers the keys it yielded and skips repeats.
func (m *redisMap) Entries(ctx context.Context) iter.Seq2[driver.Entry, error] {
	return func(yield func(driver.Entry, error) bool) {
		if err := m.begin(ctx); err != nil {
			yield(driver.Entry{}, err)
			return
		}
		_, expired, err := m.eph.expired(ctx)
		if err != nil {
			yield(driver.Entry{}, err)
			return
		}
		seen := map[string]struct{}{}
		var cursor uint64
		for {
			kvs, next, err := m.client().HScan(ctx, m.keys.names[0], cursor, "", scanCount).Result()
			if err != nil {
				yield(driver.Entry{}, m.fail(ctx, err, false))
				return
			}
			for i := 0; i+1 < len(kvs); i += 2 {
				key := kvs[i]
				if _, dup := seen[key]; dup {
					continue
				}
				if _, gone := expired[key]; gone {
					continue
				}
				seen[key] = struct{}{}
				e, err := entryOf(key, kvs[i+1], 1)
				if err != nil {
					yield(driver.Entry{}, m.fail(ctx, err, false))
					return
				}
				if !yield(e, nil) {
					return
				}
			}
			if next == 0 {
				return
			}
			cursor = next
			if err := m.begin(ctx); err != nil {
				yield(driver.Entry{}, err)
				return
			}
		}
	}
}

func (m *redisMap) Watch(ctx context.Context, ch chan<- driver.EntryEvent) error {
	return startWatch(ctx, m.handle, &hashReplica{h: m.handle, keys: m.keys, headers: 1}, m.keys.names[1], ch)
}

// hashReplica is a watcher's copy of a map or an indexed map.
type hashReplica struct {
	h       *handle
	keys    scriptKeys // the entries, the version counter
	headers int        // header fields of a stored entry
	entries map[string]driver.Entry
	// maxIndex is the greatest index seen (indexed maps): indexes are
	// never reused, so an insertion comes after it.
	maxIndex uint64
}

func (r *hashReplica) load(ctx context.Context, first bool) (uint64, []driver.EntryEvent, error) {
	reply, err := hashRead.run(ctx, r.h.client(), r.keys)
	if err != nil {
		return 0, nil, err
	}
	a, err := replyArray(reply, 2)
	if err != nil {
		return 0, nil, err
	}
	seq, err := replyUint(a[0])
	if err != nil {
		return 0, nil, err
	}
	kvs, ok := a[1].([]any)
	if !ok {
		return 0, nil, badReply("want the entries, got %T", a[1])
	}
	next := make(map[string]driver.Entry, len(kvs)/2)
	for i := 0; i+1 < len(kvs); i += 2 {
		key, _ := replyString(kvs[i])
		stored, _ := replyString(kvs[i+1])
		e, err := entryOf(key, stored, r.headers)
		if err != nil {
			return 0, nil, err
		}
		next[key] = e
		r.maxIndex = max(r.maxIndex, e.Index)
	}
	var events []driver.EntryEvent
	if !first {
		// A forged change applied with the number a genuine one then got
		// has the genuine version and another value: resync, which compares
		// versions, must see it as changed.
		for k, was := range r.entries {
			if now, ok := next[k]; ok && now.Version == was.Version && now.Index == was.Index && !bytes.Equal(now.Value, was.Value) {
				was.Version = 0
				r.entries[k] = was
			}
		}
		events = resync.Entries(r.entries, next)
		for i := range events {
			events[i].Entry = cloneEntry(events[i].Entry)
		}
	}
	r.entries = next
	return seq, events, nil
}

func cloneEntry(e driver.Entry) driver.Entry {
	e.Value = cloneBytes(e.Value)
	return e
}

func (r *hashReplica) apply(seq uint64, p *payload) ([]driver.EntryEvent, error) {
	op := p.byte()
	switch op {
	case 'I', 'U':
		var index uint64
		if r.headers == 2 {
			index = p.u64()
		}
		key := p.str()
		v := p.rest()
		if p.err != nil {
			return nil, p.err
		}
		old, present := r.entries[key]
		switch {
		case op == 'I' && present:
			return nil, badReply("insertion of %q, which the watcher's copy has", key)
		case op == 'U' && !present:
			return nil, badReply("update of %q, which the watcher's copy does not have", key)
		case op == 'U' && old.Index != index:
			return nil, badReply("update of %q at index %d, not %d", key, index, old.Index)
		case op == 'I' && r.headers == 2 && index <= r.maxIndex:
			return nil, badReply("insertion of %q at index %d, not after %d", key, index, r.maxIndex)
		}
		e := driver.Entry{Key: key, Value: bytesOf(v), Version: seq, Index: index}
		r.entries[key] = e
		r.maxIndex = max(r.maxIndex, index)
		t := driver.EventInserted
		if op == 'U' {
			t = driver.EventUpdated
		}
		return []driver.EntryEvent{{Type: t, Entry: cloneEntry(e)}}, nil
	case 'R':
		key := p.str()
		p.end()
		if p.err != nil {
			return nil, p.err
		}
		old, ok := r.entries[key]
		if !ok {
			return nil, badReply("removal of %q, which the watcher's copy does not have", key)
		}
		delete(r.entries, key)
		return []driver.EntryEvent{{Type: driver.EventRemoved, Entry: old}}, nil
	case 'C':
		p.end()
		if p.err != nil {
			return nil, p.err
		}
		if len(r.entries) == 0 {
			return nil, badReply("clear of an empty copy")
		}
		events := make([]driver.EntryEvent, 0, len(r.entries))
		for _, e := range r.entries {
			events = append(events, driver.EntryEvent{Type: driver.EventRemoved, Entry: e})
		}
		slices.SortFunc(events, func(a, b driver.EntryEvent) int {
			return cmp.Or(cmp.Compare(a.Entry.Index, b.Entry.Index), cmp.Compare(a.Entry.Key, b.Entry.Key))
		})
		r.entries = map[string]driver.Entry{}
		return events, nil
	}
	if p.err != nil {
		return nil, p.err
	}
	return nil, badReply("unknown map change %q", op)
}
