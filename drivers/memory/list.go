package memory

import (
	"context"
	"iter"
	"slices"
	"sync"

	"github.com/atomix/go-client/driver"
)

// listState is the store's state of one list. Stored items are never
// modified in place.
type listState struct {
	mu    sync.RWMutex
	items [][]byte
	feed  feed[driver.ListEvent]
}

func newListState() *listState { return &listState{} }

// list implements driver.List.
type list struct {
	*handle
	state *listState
}

// checkIndex returns ErrInvalid for a negative index and ErrNotFound for one
// at or past limit. st.mu must be held.
func (l *list) checkIndex(index, limit int) error {
	switch {
	case index < 0:
		return driver.Errorf(driver.ErrInvalid, "negative index")
	case index >= limit:
		return driver.Errorf(driver.ErrNotFound, "index out of range (length %d)", len(l.state.items))
	}
	return nil
}

func (l *list) Append(ctx context.Context, val []byte) (int, error) {
	if err := l.begin(ctx); err != nil {
		return 0, err
	}
	stored := cloneBytes(val)
	st := l.state
	st.mu.Lock()
	defer st.mu.Unlock()
	index := len(st.items)
	st.items = append(st.items, stored)
	st.feed.publish(driver.ListEvent{Type: driver.EventInserted, Index: index, Value: stored})
	return index, nil
}

func (l *list) Insert(ctx context.Context, index int, val []byte) error {
	if err := l.begin(ctx); err != nil {
		return err
	}
	stored := cloneBytes(val)
	st := l.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := l.checkIndex(index, len(st.items)+1); err != nil {
		return err
	}
	st.items = slices.Insert(st.items, index, stored)
	st.feed.publish(driver.ListEvent{Type: driver.EventInserted, Index: index, Value: stored})
	return nil
}

func (l *list) Set(ctx context.Context, index int, val []byte) ([]byte, error) {
	if err := l.begin(ctx); err != nil {
		return nil, err
	}
	stored := cloneBytes(val)
	st := l.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := l.checkIndex(index, len(st.items)); err != nil {
		return nil, err
	}
	old := st.items[index]
	st.items[index] = stored
	st.feed.publish(driver.ListEvent{Type: driver.EventUpdated, Index: index, Value: stored})
	return cloneBytes(old), nil
}

func (l *list) Get(ctx context.Context, index int) ([]byte, error) {
	if err := l.begin(ctx); err != nil {
		return nil, err
	}
	st := l.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := l.checkIndex(index, len(st.items)); err != nil {
		return nil, err
	}
	return cloneBytes(st.items[index]), nil
}

func (l *list) Remove(ctx context.Context, index int) ([]byte, error) {
	if err := l.begin(ctx); err != nil {
		return nil, err
	}
	st := l.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := l.checkIndex(index, len(st.items)); err != nil {
		return nil, err
	}
	old := st.items[index]
	st.items = slices.Delete(st.items, index, index+1)
	st.feed.publish(driver.ListEvent{Type: driver.EventRemoved, Index: index, Value: old})
	return cloneBytes(old), nil
}

func (l *list) Len(ctx context.Context) (int, error) {
	if err := l.begin(ctx); err != nil {
		return 0, err
	}
	l.state.mu.RLock()
	defer l.state.mu.RUnlock()
	return len(l.state.items), nil
}

// Clear removes every item; watchers see one EventRemoved per item, from the
// last to the first.
func (l *list) Clear(ctx context.Context) error {
	if err := l.begin(ctx); err != nil {
		return err
	}
	st := l.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.feed.watched() {
		for i := len(st.items) - 1; i >= 0; i-- {
			st.feed.publish(driver.ListEvent{Type: driver.EventRemoved, Index: i, Value: st.items[i]})
		}
	}
	st.items = nil
	return nil
}

// Items yields the items of a snapshot taken when the iteration starts.
func (l *list) Items(ctx context.Context) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		if err := l.begin(ctx); err != nil {
			yield(nil, err)
			return
		}
		l.state.mu.RLock()
		snapshot := slices.Clone(l.state.items)
		l.state.mu.RUnlock()
		for _, item := range snapshot {
			if err := l.begin(ctx); err != nil {
				yield(nil, err)
				return
			}
			if !yield(cloneBytes(item), nil) {
				return
			}
		}
	}
}

func (l *list) Watch(ctx context.Context, ch chan<- driver.ListEvent) error {
	return watch(ctx, l.handle, &l.state.mu, &l.state.feed, ch, cloneListEvent)
}

func cloneListEvent(e driver.ListEvent) driver.ListEvent {
	e.Value = cloneBytes(e.Value)
	return e
}
