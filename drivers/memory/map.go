package memory

import (
	"context"
	"iter"
	"sync"

	"github.com/atomix/go-client/driver"
)

// mapState is the store's state of one map. Stored values are never
// modified in place, so events and snapshots may share them; they are
// copied whenever they leave the store.
type mapState struct {
	mu      sync.RWMutex
	last    uint64 // version of the latest write
	entries map[string]mapEntry
	feed    feed[driver.EntryEvent]
}

type mapEntry struct {
	value   []byte
	version uint64
	binding *entryBinding // of an ephemeral entry, else nil
}

func newMapState() *mapState { return &mapState{entries: map[string]mapEntry{}} }

// hashMap implements driver.Map.
type hashMap struct {
	*handle
	state *mapState
}

// errNoSuchKey is the error of an operation on an absent key.
var errNoSuchKey = driver.Errorf(driver.ErrNotFound, "no such key")

// checkVersion returns ErrConflict unless ifVersion is 0 or the version of
// the entry found for the key.
func checkVersion(found bool, version, ifVersion uint64) error {
	switch {
	case ifVersion == 0 || (found && version == ifVersion):
		return nil
	case !found:
		return driver.Errorf(driver.ErrConflict, "want version %d, but the key is absent", ifVersion)
	default:
		return driver.Errorf(driver.ErrConflict, "want version %d, found version %d", ifVersion, version)
	}
}

func (m *hashMap) Put(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	return m.write(ctx, key, value, driver.Write{IfVersion: ifVersion}, true, true)
}

func (m *hashMap) Insert(ctx context.Context, key string, value []byte) (driver.Entry, error) {
	return m.write(ctx, key, value, driver.Write{}, true, false)
}

func (m *hashMap) Update(ctx context.Context, key string, value []byte, ifVersion uint64) (driver.Entry, error) {
	return m.write(ctx, key, value, driver.Write{IfVersion: ifVersion}, false, true)
}

// write stores value under key if the key's presence is allowed (insert:
// may be absent; update: may be present) and the version matches.
func (m *hashMap) write(ctx context.Context, key string, value []byte, w driver.Write, insert, update bool) (out driver.Entry, err error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	ss, err := m.sessionFor(w)
	if err != nil {
		return driver.Entry{}, err
	}
	if w.Fence == nil { // the plain write: no closure on its path
		return m.writeLocked(key, value, w.IfVersion, ss, insert, update)
	}
	err = m.fenced(w, func() error {
		out, err = m.writeLocked(key, value, w.IfVersion, ss, insert, update)
		return err
	})
	return out, err
}

// writeLocked is write once the fence, if any, is held.
func (m *hashMap) writeLocked(key string, value []byte, ifVersion uint64, ss *sessionState, insert, update bool) (driver.Entry, error) {
	stored := cloneBytes(value)
	st := m.state
	st.mu.Lock()
	defer st.mu.Unlock()
	old, found := st.entries[key]
	switch {
	case found && !update:
		return driver.Entry{}, driver.Errorf(driver.ErrAlreadyExists, "the key exists with version %d", old.version)
	case !found && !insert:
		return driver.Entry{}, errNoSuchKey
	}
	if err := checkVersion(found, old.version, ifVersion); err != nil {
		return driver.Entry{}, err
	}
	var b *entryBinding
	if ss != nil {
		b = &entryBinding{state: st, key: key, session: ss}
		if !ss.bind(b) {
			return driver.Entry{}, errSessionEnded(ss)
		}
	}
	if found {
		old.unbind()
	}
	st.last++
	st.entries[key] = mapEntry{value: stored, version: st.last, binding: b}
	if st.feed.watched() {
		t := driver.EventInserted
		if found {
			t = driver.EventUpdated
		}
		st.feed.publish(driver.EntryEvent{Type: t, Entry: driver.Entry{Key: key, Value: stored, Version: st.last}})
	}
	return driver.Entry{Key: key, Value: value, Version: st.last}, nil
}

func (m *hashMap) Get(ctx context.Context, key string) (driver.Entry, error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	st := m.state
	st.mu.RLock()
	e, found := st.entries[key]
	st.mu.RUnlock()
	if !found {
		return driver.Entry{}, errNoSuchKey
	}
	return driver.Entry{Key: key, Value: cloneBytes(e.value), Version: e.version}, nil
}

func (m *hashMap) Remove(ctx context.Context, key string, ifVersion uint64) (driver.Entry, error) {
	return m.remove(ctx, key, driver.Write{IfVersion: ifVersion})
}

func (m *hashMap) remove(ctx context.Context, key string, w driver.Write) (out driver.Entry, err error) {
	if err := m.begin(ctx); err != nil {
		return driver.Entry{}, err
	}
	if w.Fence == nil {
		return m.removeLocked(key, w.IfVersion)
	}
	err = m.fenced(w, func() error {
		out, err = m.removeLocked(key, w.IfVersion)
		return err
	})
	return out, err
}

// removeLocked is remove once the fence, if any, is held.
func (m *hashMap) removeLocked(key string, ifVersion uint64) (driver.Entry, error) {
	st := m.state
	st.mu.Lock()
	defer st.mu.Unlock()
	e, found := st.entries[key]
	if !found {
		return driver.Entry{}, errNoSuchKey
	}
	if err := checkVersion(found, e.version, ifVersion); err != nil {
		return driver.Entry{}, err
	}
	e.unbind()
	delete(st.entries, key)
	st.feed.publish(driver.EntryEvent{Type: driver.EventRemoved, Entry: driver.Entry{Key: key, Value: e.value, Version: e.version}})
	return driver.Entry{Key: key, Value: cloneBytes(e.value), Version: e.version}, nil
}

func (m *hashMap) Len(ctx context.Context) (int, error) {
	if err := m.begin(ctx); err != nil {
		return 0, err
	}
	m.state.mu.RLock()
	defer m.state.mu.RUnlock()
	return len(m.state.entries), nil
}

func (m *hashMap) Clear(ctx context.Context) error {
	if err := m.begin(ctx); err != nil {
		return err
	}
	st := m.state
	st.mu.Lock()
	defer st.mu.Unlock()
	for k, e := range st.entries {
		e.unbind()
		if st.feed.watched() {
			st.feed.publish(driver.EntryEvent{Type: driver.EventRemoved, Entry: driver.Entry{Key: k, Value: e.value, Version: e.version}})
		}
	}
	clear(st.entries)
	return nil
}

// Entries yields the entries of a snapshot taken when the iteration starts.
func (m *hashMap) Entries(ctx context.Context) iter.Seq2[driver.Entry, error] {
	return func(yield func(driver.Entry, error) bool) {
		if err := m.begin(ctx); err != nil {
			yield(driver.Entry{}, err)
			return
		}
		st := m.state
		st.mu.RLock()
		snapshot := make([]driver.Entry, 0, len(st.entries))
		for k, e := range st.entries {
			snapshot = append(snapshot, driver.Entry{Key: k, Value: e.value, Version: e.version})
		}
		st.mu.RUnlock()
		yieldEntries(ctx, m.handle, snapshot, yield)
	}
}

// yieldEntries yields copies of the entries of a snapshot, stopping with an
// error if ctx ends or the instance closes.
func yieldEntries(ctx context.Context, h *handle, snapshot []driver.Entry, yield func(driver.Entry, error) bool) {
	for _, e := range snapshot {
		if err := h.begin(ctx); err != nil {
			yield(driver.Entry{}, err)
			return
		}
		e.Value = cloneBytes(e.Value)
		if !yield(e, nil) {
			return
		}
	}
}

func (m *hashMap) Watch(ctx context.Context, ch chan<- driver.EntryEvent) error {
	return watch(ctx, m.handle, &m.state.mu, &m.state.feed, ch, cloneEntryEvent)
}

func cloneEntryEvent(e driver.EntryEvent) driver.EntryEvent {
	e.Entry.Value = cloneBytes(e.Entry.Value)
	return e
}
