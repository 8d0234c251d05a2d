package memory

import (
	"context"
	"sync"

	"github.com/atomix/go-client/driver"
)

// valueState is the store's state of one value. The stored slice is never
// modified in place.
type valueState struct {
	mu      sync.RWMutex
	last    uint64 // version of the latest write; survives Delete
	present bool
	value   []byte
	version uint64
	feed    feed[driver.ValueEvent]
}

func newValueState() *valueState { return &valueState{} }

// value implements driver.Value.
type value struct {
	*handle
	state *valueState
}

func (v *value) Set(ctx context.Context, val []byte, ifVersion uint64) (uint64, error) {
	return v.set(ctx, val, driver.Write{IfVersion: ifVersion})
}

func (v *value) set(ctx context.Context, val []byte, w driver.Write) (version uint64, err error) {
	if err := v.begin(ctx); err != nil {
		return 0, err
	}
	if w.Fence == nil {
		return v.setLocked(val, w.IfVersion)
	}
	err = v.fenced(w, func() error {
		version, err = v.setLocked(val, w.IfVersion)
		return err
	})
	return version, err
}

func (v *value) setLocked(val []byte, ifVersion uint64) (uint64, error) {
	stored := cloneBytes(val)
	st := v.state
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case ifVersion == 0 || (st.present && st.version == ifVersion):
	case !st.present:
		return 0, driver.Errorf(driver.ErrConflict, "want version %d, but it is not set", ifVersion)
	default:
		return 0, driver.Errorf(driver.ErrConflict, "want version %d, found version %d", ifVersion, st.version)
	}
	t := driver.EventInserted
	if st.present {
		t = driver.EventUpdated
	}
	st.last++
	st.present, st.value, st.version = true, stored, st.last
	st.feed.publish(driver.ValueEvent{Type: t, Value: stored, Version: st.last})
	return st.last, nil
}

func (v *value) Get(ctx context.Context) ([]byte, uint64, error) {
	if err := v.begin(ctx); err != nil {
		return nil, 0, err
	}
	st := v.state
	st.mu.RLock()
	present, val, version := st.present, st.value, st.version
	st.mu.RUnlock()
	if !present {
		return nil, 0, driver.Errorf(driver.ErrNotFound, "not set")
	}
	return cloneBytes(val), version, nil
}

func (v *value) Delete(ctx context.Context, ifVersion uint64) error {
	return v.delete(ctx, driver.Write{IfVersion: ifVersion})
}

func (v *value) delete(ctx context.Context, w driver.Write) error {
	if err := v.begin(ctx); err != nil {
		return err
	}
	return v.fenced(w, func() error { return v.deleteLocked(w.IfVersion) })
}

func (v *value) deleteLocked(ifVersion uint64) error {
	st := v.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.present {
		return driver.Errorf(driver.ErrNotFound, "not set")
	}
	if ifVersion != 0 && ifVersion != st.version {
		return driver.Errorf(driver.ErrConflict, "want version %d, found version %d", ifVersion, st.version)
	}
	st.feed.publish(driver.ValueEvent{Type: driver.EventRemoved, Value: st.value, Version: st.version})
	st.present, st.value, st.version = false, nil, 0
	return nil
}

func (v *value) Watch(ctx context.Context, ch chan<- driver.ValueEvent) error {
	return watch(ctx, v.handle, &v.state.mu, &v.state.feed, ch, cloneValueEvent)
}

func cloneValueEvent(e driver.ValueEvent) driver.ValueEvent {
	e.Value = cloneBytes(e.Value)
	return e
}
