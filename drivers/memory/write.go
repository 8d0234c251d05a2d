package memory

import (
	"context"

	"github.com/atomix/go-client/driver"
)

// fenced runs write, the whole of a write under its primitive's mutex, only
// if w's fence holds: the fence's lock state mutex is held around the check
// and the write, so no release or grant can come between them. Lock
// mutexes are always taken before primitive mutexes, never after.
func (h *handle) fenced(w driver.Write, write func() error) error {
	f := w.Fence
	if f == nil {
		return write()
	}
	st := state(h.d.store, "lock", f.Lock, newLockState)
	st.mu.Lock()
	defer st.mu.Unlock()
	hd := st.holder
	switch {
	case hd == nil:
		return driver.Errorf(driver.ErrConflict, "fence: the lock is not held (version %d ended)", f.Version)
	case hd.owner != f.Owner || hd.version != f.Version || hd.session.ended.Load():
		return driver.Errorf(driver.ErrConflict, "fence: the lock is held with version %d, not %d", hd.version, f.Version)
	}
	return write()
}

// sessionFor returns the store's record of w's session, nil for a write
// that is not ephemeral.
func (h *handle) sessionFor(w driver.Write) (*sessionState, error) {
	if w.Session == nil {
		return nil, nil
	}
	return h.sessionOf(w.Session)
}

// entryBinding binds one map entry to a session: when the session ends the
// entry is removed, if it is still the entry written with the binding.
type entryBinding struct {
	state   *mapState
	key     string
	session *sessionState
}

func (b *entryBinding) sessionEnded() {
	st := b.state
	st.mu.Lock()
	defer st.mu.Unlock()
	e, found := st.entries[b.key]
	if !found || e.binding != b {
		return
	}
	delete(st.entries, b.key)
	st.feed.publish(driver.EntryEvent{Type: driver.EventRemoved, Entry: driver.Entry{Key: b.key, Value: e.value, Version: e.version}})
}

// unbind forgets the binding of an entry overwritten or removed otherwise.
// st.mu is held.
func (e mapEntry) unbind() {
	if e.binding != nil {
		e.binding.session.unbind(e.binding)
	}
}

// WriteWith implements driver.ConditionalMap.
func (m *hashMap) WriteWith(ctx context.Context, op driver.MapOp, key string, value []byte, w driver.Write) (driver.Entry, error) {
	switch op {
	case driver.MapPut:
		return m.write(ctx, key, value, w, true, true)
	case driver.MapInsert:
		return m.write(ctx, key, value, w, true, false)
	case driver.MapUpdate:
		return m.write(ctx, key, value, w, false, true)
	case driver.MapRemove:
		return m.remove(ctx, key, w)
	}
	return driver.Entry{}, driver.Errorf(driver.ErrInvalid, "unknown map write %d", op)
}

// elementBinding binds one set element to a session.
type elementBinding struct {
	state   *setState
	element string
	session *sessionState
}

func (b *elementBinding) sessionEnded() {
	st := b.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.bound[b.element] != b {
		return
	}
	delete(st.bound, b.element)
	delete(st.elements, b.element)
	st.feed.publish(driver.ElementEvent{Type: driver.EventRemoved, Element: b.element})
}

// AddWith implements driver.ConditionalSet.
func (s *set) AddWith(ctx context.Context, element string, w driver.Write) (bool, error) {
	return s.add(ctx, element, w)
}

// SetWith implements driver.ConditionalValue.
func (v *value) SetWith(ctx context.Context, val []byte, w driver.Write) (uint64, error) {
	return v.set(ctx, val, w)
}

// DeleteWith implements driver.ConditionalValue.
func (v *value) DeleteWith(ctx context.Context, w driver.Write) error {
	return v.delete(ctx, w)
}

var (
	_ driver.ConditionalMap   = (*hashMap)(nil)
	_ driver.ConditionalSet   = (*set)(nil)
	_ driver.ConditionalValue = (*value)(nil)
)
