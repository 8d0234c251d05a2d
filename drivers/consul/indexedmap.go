package consul

import (
	"context"
	"errors"
	"iter"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// consulIndexedMap keeps, under <base>/:
//
//   - n: the last index assigned, in decimal (indexes start at 1 and are
//     never reused: Clear keeps this key);
//   - k/<segment(key)>: the entry, holding its value, with its index in
//     the key's Flags; its version is the key's ModifyIndex;
//   - x/<16 hex digits>: one per entry, named by its index, holding the
//     entry's key, for lookups by index.
//
// Append is one transaction: check-not-exists on the entry, check-and-set
// of n from the last value this instance saw (read again when another
// client appended since), and the two keys. Update, Remove and RemoveIndex
// read the entry, then write with a check-and-set against its ModifyIndex.
// Lookups by position (First, Last, Prev, Next) list the index keys of
// the smallest aligned block around a bound that holds the answer (see
// nearest): O(1) when the answer is near the bound, as it is for Last (the
// bound is n) and for First once an instance has found it.
type consulIndexedMap struct {
	primitive
	dir     string // base + "/"
	last    string // dir + "n"
	entries string // dir + "k/"
	indexes string // dir + "x/"

	mu        sync.Mutex
	firstSeen uint64 // the lowest index First found: no entry is below it
	known     bool
	lastIndex uint64 // the value of n
	lastMod   uint64 // n's ModifyIndex, 0 when absent
}

var _ driver.IndexedMap = (*consulIndexedMap)(nil)

func newIndexedMap(d *Driver, id driver.ID) *consulIndexedMap {
	m := &consulIndexedMap{}
	m.init(d, kindIndexedMap, id)
	m.dir = m.base + "/"
	m.last, m.entries, m.indexes = m.dir+"n", m.dir+"k/", m.dir+"x/"
	return m
}

func (m *consulIndexedMap) entry(key string) string { return m.entries + segment(key) }

func (m *consulIndexedMap) index(i uint64) string {
	hex := strconv.FormatUint(i, 16)
	return m.indexes + strings.Repeat("0", 16-len(hex)) + hex
}

func imapEntry(key string, p *api.KVPair) driver.Entry {
	return driver.Entry{Key: key, Value: p.Value, Version: p.ModifyIndex, Index: p.Flags}
}

// Append adds key with the next index.
func (m *consulIndexedMap) Append(ctx context.Context, key string, value []byte) (driver.Entry, error) {
	if err := m.check(); err != nil {
		return driver.Entry{}, err
	}
	m.mu.Lock()
	last, lastMod, known := m.lastIndex, m.lastMod, m.known
	m.mu.Unlock()
	for {
		if !known {
			pair, _, err := m.d.kv.Get(m.last, m.d.read(ctx))
			if err != nil {
				return driver.Entry{}, classify(ctx, err, reading)
			}
			last, lastMod = 0, 0
			if pair != nil {
				if last, err = strconv.ParseUint(string(pair.Value), 10, 64); err != nil {
					return driver.Entry{}, errCorrupt(err)
				}
				lastMod = pair.ModifyIndex
			}
		}
		i := last + 1
		res, rb, err := m.d.txn(ctx, []kvOp{
			{Verb: api.KVCheckNotExists, Key: m.entry(key)},
			{Verb: api.KVCAS, Key: m.last, Value: strconv.AppendUint(nil, i, 10), Index: lastMod},
			{Verb: api.KVSet, Key: m.entry(key), Value: value, Flags: i},
			{Verb: api.KVSet, Key: m.index(i), Value: []byte(key)},
		})
		switch {
		case err != nil:
			m.forgetLast()
			return driver.Entry{}, err
		case rb != nil && rb.has(0):
			return driver.Entry{}, driver.Errorf(driver.ErrAlreadyExists, "")
		case rb != nil && rb.has(1):
			known = false // another client appended
			continue
		case rb != nil:
			return driver.Entry{}, unexpected(rb)
		}
		m.rememberLast(i, res[0].ModifyIndex)
		return driver.Entry{Key: key, Value: value, Version: res[1].ModifyIndex, Index: i}, nil
	}
}

func (m *consulIndexedMap) rememberLast(last, mod uint64) {
	m.mu.Lock()
	if !m.known || mod >= m.lastMod {
		m.lastIndex, m.lastMod, m.known = last, mod, true
	}
	m.mu.Unlock()
}

func (m *consulIndexedMap) forgetLast() {
	m.mu.Lock()
	m.known = false
	m.mu.Unlock()
}

// Update replaces the value of key, keeping its index: a read, then a
// check-and-set against the ModifyIndex it read.
func (m *consulIndexedMap) Update(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	if err := m.check(); err != nil {
		return driver.Entry{}, err
	}
	for {
		e, err := m.get(ctx, key)
		if err != nil {
			return driver.Entry{}, err
		}
		if ifVersion != 0 && e.Version != ifVersion {
			return driver.Entry{}, errVersion
		}
		res, rb, err := m.d.txn(ctx, []kvOp{
			{Verb: api.KVCAS, Key: m.entry(key), Value: value, Flags: e.Index, Index: e.Version},
		})
		switch {
		case err != nil:
			return driver.Entry{}, err
		case rb != nil:
			continue // changed since read: read again
		}
		return driver.Entry{Key: key, Value: value, Version: res[0].ModifyIndex, Index: e.Index}, nil
	}
}

// Get reads the entry of key.
func (m *consulIndexedMap) Get(ctx context.Context, key string) (driver.Entry, error) {
	if err := m.check(); err != nil {
		return driver.Entry{}, err
	}
	return m.get(ctx, key)
}

func (m *consulIndexedMap) get(ctx context.Context, key string) (driver.Entry, error) {
	pair, _, err := m.d.kv.Get(m.entry(key), m.d.read(ctx))
	if err != nil {
		return driver.Entry{}, classify(ctx, err, reading)
	}
	if pair == nil {
		return driver.Entry{}, errNotFound
	}
	return imapEntry(key, pair), nil
}

// GetIndex reads the index key, then the entry it names.
func (m *consulIndexedMap) GetIndex(ctx context.Context, index uint64) (driver.Entry, error) {
	if err := m.check(); err != nil {
		return driver.Entry{}, err
	}
	return m.getIndex(ctx, index)
}

func (m *consulIndexedMap) getIndex(ctx context.Context, index uint64) (driver.Entry, error) {
	pair, _, err := m.d.kv.Get(m.index(index), m.d.read(ctx))
	if err != nil {
		return driver.Entry{}, classify(ctx, err, reading)
	}
	if pair == nil {
		return driver.Entry{}, errNotFound
	}
	e, err := m.get(ctx, string(pair.Value))
	if err == nil && e.Index != index {
		// Removed and appended again since the index key was read.
		err = errNotFound
	}
	return e, err
}

// First returns the entry with the lowest index: the nearest index key at
// or above the lowest index this instance has seen first (indexes are never
// reused and new entries get higher ones, so the lowest index only grows).
func (m *consulIndexedMap) First(ctx context.Context) (driver.Entry, error) {
	e, err := m.seek(ctx, func(ctx context.Context) (uint64, bool, error) {
		m.mu.Lock()
		from := max(m.firstSeen, 1)
		m.mu.Unlock()
		i, ok, err := m.nearest(ctx, from, true)
		if err == nil && !ok && from > 1 {
			// Nothing at or above what this instance saw first: a store
			// restarted empty counts indexes from 1 again.
			i, ok, err = m.nearest(ctx, 1, true)
		}
		return i, ok, err
	})
	if err == nil {
		m.mu.Lock()
		m.firstSeen = e.Index
		m.mu.Unlock()
	}
	return e, err
}

// Last returns the entry with the highest index: the nearest index key at
// or below the last index assigned (n).
func (m *consulIndexedMap) Last(ctx context.Context) (driver.Entry, error) {
	return m.seek(ctx, func(ctx context.Context) (uint64, bool, error) {
		pair, _, err := m.d.kv.Get(m.last, m.d.read(ctx))
		if err != nil {
			return 0, false, classify(ctx, err, reading)
		}
		if pair == nil {
			return 0, false, nil
		}
		last, err := strconv.ParseUint(string(pair.Value), 10, 64)
		if err != nil {
			return 0, false, errCorrupt(err)
		}
		return m.nearest(ctx, last, false)
	})
}

// Prev returns the entry with the highest index below index.
func (m *consulIndexedMap) Prev(ctx context.Context, index uint64) (driver.Entry, error) {
	return m.seek(ctx, func(ctx context.Context) (uint64, bool, error) {
		if index <= 1 {
			return 0, false, nil
		}
		return m.nearest(ctx, index-1, false)
	})
}

// Next returns the entry with the lowest index above index.
func (m *consulIndexedMap) Next(ctx context.Context, index uint64) (driver.Entry, error) {
	return m.seek(ctx, func(ctx context.Context) (uint64, bool, error) {
		if index == math.MaxUint64 {
			return 0, false, nil
		}
		return m.nearest(ctx, index+1, true)
	})
}

// seek finds an index with find and reads that entry; if it was removed in
// between, it looks again.
func (m *consulIndexedMap) seek(ctx context.Context, find func(context.Context) (uint64, bool, error)) (driver.Entry, error) {
	if err := m.check(); err != nil {
		return driver.Entry{}, err
	}
	for attempt := 0; ; attempt++ {
		i, ok, err := find(ctx)
		if err != nil {
			return driver.Entry{}, err
		}
		if !ok {
			return driver.Entry{}, errNotFound
		}
		e, err := m.getIndex(ctx, i)
		if err == nil || !errors.Is(err, driver.ErrNotFound) || attempt == 10 {
			return e, err
		}
	}
}

// nearest returns the lowest index at or above bound (up) or the highest
// at or below it (!up) that has an index key, and whether there is one.
// Index keys are 16 hex digits, so the keys that share the first k digits
// with bound form an aligned block of 16^(16-k) indexes around it: nearest
// lists the keys of the block of 16 around bound, then of 256, and so on,
// until one holds an index on the right side of bound. Consul walks only
// the keys under the prefix it is asked for, so the cost is that of the
// smallest block that reaches the answer: one small listing when the
// answer is within a few indexes of bound, the whole directory only when
// the answer is far away (or absent).
func (m *consulIndexedMap) nearest(ctx context.Context, bound uint64, up bool) (uint64, bool, error) {
	digits := m.index(bound)[len(m.indexes):]
	for k := len(digits) - 1; k >= 0; k-- {
		keys, err := m.d.listKeys(ctx, m.indexes+digits[:k])
		if err != nil {
			return 0, false, err
		}
		var best uint64
		found := false
		for _, key := range keys {
			i, err := strconv.ParseUint(strings.TrimPrefix(key, m.indexes), 16, 64)
			if err != nil || (up && i < bound) || (!up && i > bound) {
				continue
			}
			if !found || (up && i < best) || (!up && i > best) {
				best, found = i, true
			}
		}
		if found {
			return best, true, nil
		}
	}
	return 0, false, nil
}

// Remove deletes key and its index key, after checking ifVersion against
// the entry read; the delete is a check-and-delete against that version.
func (m *consulIndexedMap) Remove(ctx context.Context, key string, ifVersion uint64) (driver.Entry, error) {
	if err := m.check(); err != nil {
		return driver.Entry{}, err
	}
	return m.remove(ctx, key, 0, ifVersion)
}

// RemoveIndex finds the key at index, then removes it as Remove does.
func (m *consulIndexedMap) RemoveIndex(ctx context.Context, index uint64, ifVersion uint64) (driver.Entry, error) {
	if err := m.check(); err != nil {
		return driver.Entry{}, err
	}
	pair, _, err := m.d.kv.Get(m.index(index), m.d.read(ctx))
	if err != nil {
		return driver.Entry{}, classify(ctx, err, reading)
	}
	if pair == nil {
		return driver.Entry{}, errNotFound
	}
	return m.remove(ctx, string(pair.Value), index, ifVersion)
}

// remove deletes key if it has index (any index when 0) and version
// ifVersion (any when 0).
func (m *consulIndexedMap) remove(ctx context.Context, key string, index, ifVersion uint64) (driver.Entry, error) {
	for {
		e, err := m.get(ctx, key)
		if err != nil {
			return driver.Entry{}, err
		}
		if index != 0 && e.Index != index {
			return driver.Entry{}, errNotFound
		}
		if ifVersion != 0 && e.Version != ifVersion {
			return driver.Entry{}, errVersion
		}
		_, rb, err := m.d.txn(ctx, []kvOp{
			{Verb: api.KVDeleteCAS, Key: m.entry(key), Index: e.Version},
			{Verb: api.KVDelete, Key: m.index(e.Index)},
		})
		switch {
		case err != nil:
			return driver.Entry{}, err
		case rb != nil:
			continue // changed since read: read again
		}
		return e, nil
	}
}

// Len counts the entry keys.
func (m *consulIndexedMap) Len(ctx context.Context) (int, error) {
	if err := m.check(); err != nil {
		return 0, err
	}
	keys, _, err := m.d.kv.Keys(m.entries, "", m.d.read(ctx))
	if err != nil {
		return 0, classify(ctx, err, reading)
	}
	return len(keys), nil
}

// Clear deletes every entry and index key in one transaction; n stays, so
// indexes are not reused.
func (m *consulIndexedMap) Clear(ctx context.Context) error {
	if err := m.check(); err != nil {
		return err
	}
	_, err := m.d.apply(ctx, []kvOp{
		{Verb: api.KVDeleteTree, Key: m.entries},
		{Verb: api.KVDeleteTree, Key: m.indexes},
	})
	return err
}

// Entries lists the index keys (keys only; their fixed-width hex names
// sort in index order), then reads a page of index keys and the page of
// entries they name at a time (see getMany): it holds one page of values
// at once, however large the map. An entry removed, or removed and
// appended again, before its page is read is left out (the latter is
// yielded at its new index if that was listed).
func (m *consulIndexedMap) Entries(ctx context.Context) iter.Seq2[driver.Entry, error] {
	return func(yield func(driver.Entry, error) bool) {
		if err := m.check(); err != nil {
			yield(driver.Entry{}, err)
			return
		}
		keys, err := m.d.listKeys(ctx, m.indexes)
		if err != nil {
			yield(driver.Entry{}, err)
			return
		}
		m.d.pages(ctx, keys, func(ixPairs []*api.KVPair, err error) bool {
			if err != nil {
				return yield(driver.Entry{}, err)
			}
			want := make(map[string]uint64, len(ixPairs))
			paths := make([]string, 0, len(ixPairs))
			for _, p := range ixPairs {
				i, err := strconv.ParseUint(strings.TrimPrefix(p.Key, m.indexes), 16, 64)
				if err != nil {
					continue // not written by this driver
				}
				path := m.entry(string(p.Value))
				want[path] = i
				paths = append(paths, path)
			}
			pairs, err := m.d.getMany(ctx, paths)
			if err != nil {
				return yield(driver.Entry{}, err)
			}
			for _, p := range pairs {
				if p.Flags != want[p.Key] {
					continue // removed and appended again since
				}
				key, _ := unsegment(strings.TrimPrefix(p.Key, m.entries))
				if !yield(imapEntry(key, p), nil) {
					return false
				}
			}
			return true
		})
	}
}

// Watch follows the entry keys with blocking queries (see the package
// documentation). An entry removed and appended again between two answers
// yields EventRemoved then EventInserted.
func (m *consulIndexedMap) Watch(ctx context.Context, ch chan<- driver.EntryEvent) error {
	return m.watchEntries(ctx, m.entries, imapEntry, ch)
}
