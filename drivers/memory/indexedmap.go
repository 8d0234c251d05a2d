package memory

import (
	"context"
	"iter"
	"slices"
	"sync"

	"github.com/atomix/go-client/driver"
)

// indexedMapState is the store's state of one indexed map: its entries by
// key and in index order. Entries are values, replaced rather than modified,
// and their value slices are never modified in place.
type indexedMapState struct {
	mu        sync.RWMutex
	last      uint64 // version of the latest write
	lastIndex uint64 // index of the latest Append; never reused
	byKey     map[string]uint64
	order     []driver.Entry // ascending Index
	feed      feed[driver.EntryEvent]
}

func newIndexedMapState() *indexedMapState {
	return &indexedMapState{byKey: map[string]uint64{}}
}

// find returns the position in order of the entry with index, or of where
// it would be, and whether it exists. st.mu must be held.
func (st *indexedMapState) find(index uint64) (int, bool) {
	return slices.BinarySearchFunc(st.order, index, func(e driver.Entry, i uint64) int {
		switch {
		case e.Index < i:
			return -1
		case e.Index > i:
			return 1
		}
		return 0
	})
}

// The errors of a position outside the index order.
var (
	errEmpty       = driver.Errorf(driver.ErrNotFound, "no entries")
	errNoSuchEntry = driver.Errorf(driver.ErrNotFound, "no such entry")
)

// indexedMap implements driver.IndexedMap.
type indexedMap struct {
	*handle
	state *indexedMapState
}

// out returns a copy of e for the caller.
func out(e driver.Entry) driver.Entry {
	e.Value = cloneBytes(e.Value)
	return e
}

func (m *indexedMap) Append(ctx context.Context, key string, val []byte) (driver.Entry, error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	stored := cloneBytes(val)
	st := m.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if index, found := st.byKey[key]; found {
		return driver.Entry{}, driver.Errorf(driver.ErrAlreadyExists, "the key exists at index %d", index)
	}
	st.last++
	st.lastIndex++
	e := driver.Entry{Key: key, Value: stored, Version: st.last, Index: st.lastIndex}
	st.byKey[key] = e.Index
	st.order = append(st.order, e)
	st.feed.publish(driver.EntryEvent{Type: driver.EventInserted, Entry: e})
	e.Value = val
	return e, nil
}

func (m *indexedMap) Update(ctx context.Context, key string, val []byte, ifVersion uint64) (driver.Entry, error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	stored := cloneBytes(val)
	st := m.state
	st.mu.Lock()
	defer st.mu.Unlock()
	index, found := st.byKey[key]
	if !found {
		return driver.Entry{}, errNoSuchKey
	}
	i, _ := st.find(index)
	if err := checkVersion(true, st.order[i].Version, ifVersion); err != nil {
		return driver.Entry{}, err
	}
	st.last++
	e := driver.Entry{Key: key, Value: stored, Version: st.last, Index: index}
	st.order[i] = e
	st.feed.publish(driver.EntryEvent{Type: driver.EventUpdated, Entry: e})
	e.Value = val
	return e, nil
}

func (m *indexedMap) Get(ctx context.Context, key string) (driver.Entry, error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	st := m.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	index, found := st.byKey[key]
	if !found {
		return driver.Entry{}, errNoSuchKey
	}
	i, _ := st.find(index)
	return out(st.order[i]), nil
}

func (m *indexedMap) GetIndex(ctx context.Context, index uint64) (driver.Entry, error) {
	return m.at(ctx, func(st *indexedMapState) int {
		if i, found := st.find(index); found {
			return i
		}
		return -1
	})
}

func (m *indexedMap) First(ctx context.Context) (driver.Entry, error) {
	return m.at(ctx, func(*indexedMapState) int { return 0 })
}

func (m *indexedMap) Last(ctx context.Context) (driver.Entry, error) {
	return m.at(ctx, func(st *indexedMapState) int { return len(st.order) - 1 })
}

func (m *indexedMap) Prev(ctx context.Context, index uint64) (driver.Entry, error) {
	return m.at(ctx, func(st *indexedMapState) int {
		i, _ := st.find(index)
		return i - 1
	})
}

func (m *indexedMap) Next(ctx context.Context, index uint64) (driver.Entry, error) {
	return m.at(ctx, func(st *indexedMapState) int {
		i, found := st.find(index)
		if found {
			i++
		}
		return i
	})
}

// at returns the entry at the position pos picks in the index order, or
// ErrNotFound when that position is outside it.
func (m *indexedMap) at(ctx context.Context, pos func(*indexedMapState) int) (driver.Entry, error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	st := m.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	i := pos(st)
	if i < 0 || i >= len(st.order) {
		if len(st.order) == 0 {
			return driver.Entry{}, errEmpty
		}
		return driver.Entry{}, errNoSuchEntry
	}
	return out(st.order[i]), nil
}

func (m *indexedMap) Remove(ctx context.Context, key string, ifVersion uint64) (driver.Entry, error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	st := m.state
	st.mu.Lock()
	defer st.mu.Unlock()
	index, found := st.byKey[key]
	if !found {
		return driver.Entry{}, errNoSuchKey
	}
	i, _ := st.find(index)
	return m.removeAt(i, ifVersion)
}

func (m *indexedMap) RemoveIndex(ctx context.Context, index uint64, ifVersion uint64) (driver.Entry, error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	st := m.state
	st.mu.Lock()
	defer st.mu.Unlock()
	i, found := st.find(index)
	if !found {
		return driver.Entry{}, errNoSuchEntry
	}
	return m.removeAt(i, ifVersion)
}

// removeAt removes the entry at position i of the index order if ifVersion
// allows. st.mu must be held.
func (m *indexedMap) removeAt(i int, ifVersion uint64) (driver.Entry, error) {
	st := m.state
	e := st.order[i]
	if err := checkVersion(true, e.Version, ifVersion); err != nil {
		return driver.Entry{}, err
	}
	st.order = slices.Delete(st.order, i, i+1)
	delete(st.byKey, e.Key)
	st.feed.publish(driver.EntryEvent{Type: driver.EventRemoved, Entry: e})
	return out(e), nil
}

func (m *indexedMap) Len(ctx context.Context) (int, error) {
	if err := m.begin(ctx); err != nil {
		return 0, err
	}
	m.state.mu.RLock()
	defer m.state.mu.RUnlock()
	return len(m.state.order), nil
}

// Clear removes every entry; watchers see one EventRemoved per entry, in
// index order. Indexes are not reused afterwards.
func (m *indexedMap) Clear(ctx context.Context) error {
	if err := m.begin(ctx); err != nil {
		return err
	}
	st := m.state
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, e := range st.order {
		st.feed.publish(driver.EntryEvent{Type: driver.EventRemoved, Entry: e})
	}
	st.order = nil
	clear(st.byKey)
	return nil
}

// Entries yields, in index order, the entries of a snapshot taken when the
// iteration starts.
func (m *indexedMap) Entries(ctx context.Context) iter.Seq2[driver.Entry, error] {
	return func(yield func(driver.Entry, error) bool) {
		if err := m.begin(ctx); err != nil {
			yield(driver.Entry{}, err)
			return
		}
		m.state.mu.RLock()
		snapshot := slices.Clone(m.state.order)
		m.state.mu.RUnlock()
		yieldEntries(ctx, m.handle, snapshot, yield)
	}
}

func (m *indexedMap) Watch(ctx context.Context, ch chan<- driver.EntryEvent) error {
	return watch(ctx, m.handle, &m.state.mu, &m.state.feed, ch, cloneEntryEvent)
}
