package consul

import (
	"context"
	"errors"
	"iter"
	"slices"
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
// Lookups by position (First, Last, Prev, Next) list the index keys.
type consulIndexedMap struct {
	primitive
	dir     string // base + "/"
	last    string // dir + "n"
	entries string // dir + "k/"
	indexes string // dir + "x/"

	mu        sync.Mutex
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

// First returns the entry with the lowest index.
func (m *consulIndexedMap) First(ctx context.Context) (driver.Entry, error) {
	return m.seek(ctx, func(ix []uint64) int { return 0 })
}

// Last returns the entry with the highest index.
func (m *consulIndexedMap) Last(ctx context.Context) (driver.Entry, error) {
	return m.seek(ctx, func(ix []uint64) int { return len(ix) - 1 })
}

// Prev returns the entry with the highest index below index.
func (m *consulIndexedMap) Prev(ctx context.Context, index uint64) (driver.Entry, error) {
	return m.seek(ctx, func(ix []uint64) int {
		i, _ := slices.BinarySearch(ix, index)
		return i - 1
	})
}

// Next returns the entry with the lowest index above index.
func (m *consulIndexedMap) Next(ctx context.Context, index uint64) (driver.Entry, error) {
	return m.seek(ctx, func(ix []uint64) int {
		i, found := slices.BinarySearch(ix, index)
		if found {
			i++
		}
		return i
	})
}

// seek lists the index keys, lets pick choose a position among the sorted
// indexes, and reads that entry; if it was removed in between, it looks
// again.
func (m *consulIndexedMap) seek(ctx context.Context, pick func([]uint64) int) (driver.Entry, error) {
	if err := m.check(); err != nil {
		return driver.Entry{}, err
	}
	for attempt := 0; ; attempt++ {
		keys, _, err := m.d.kv.Keys(m.indexes, "", m.d.read(ctx))
		if err != nil {
			return driver.Entry{}, classify(ctx, err, reading)
		}
		ix := make([]uint64, 0, len(keys))
		for _, k := range keys {
			if i, err := strconv.ParseUint(strings.TrimPrefix(k, m.indexes), 16, 64); err == nil {
				ix = append(ix, i)
			}
		}
		slices.Sort(ix)
		p := pick(ix)
		if p < 0 || p >= len(ix) {
			return driver.Entry{}, errNotFound
		}
		e, err := m.getIndex(ctx, ix[p])
		if err == nil || !errors.Is(err, driver.ErrNotFound) || attempt == 10 {
			return e, err
		}
	}
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
