package memory

import (
	"context"
	"iter"
	"sync"

	"github.com/atomix/go-client/driver"
)

// setState is the store's state of one set.
type setState struct {
	mu       sync.RWMutex
	elements map[string]struct{}
	bound    map[string]*elementBinding // the ephemeral elements
	feed     feed[driver.ElementEvent]
}

func newSetState() *setState {
	return &setState{elements: map[string]struct{}{}, bound: map[string]*elementBinding{}}
}

// unbind forgets the binding of element, if ephemeral, removed otherwise
// than by its session's end. st.mu is held.
func (st *setState) unbind(element string) {
	if b := st.bound[element]; b != nil {
		b.session.unbind(b)
		delete(st.bound, element)
	}
}

// set implements driver.Set.
type set struct {
	*handle
	state *setState
}

func (s *set) Add(ctx context.Context, element string) (bool, error) {
	return s.add(ctx, element, driver.Write{})
}

func (s *set) add(ctx context.Context, element string, w driver.Write) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	ss, err := s.sessionFor(w)
	if err != nil {
		return false, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, found := st.elements[element]; found {
		return false, nil
	}
	if ss != nil {
		b := &elementBinding{state: st, element: element, session: ss}
		if !ss.bind(b) {
			return false, errSessionEnded(ss)
		}
		st.bound[element] = b
	}
	st.elements[element] = struct{}{}
	st.feed.publish(driver.ElementEvent{Type: driver.EventInserted, Element: element})
	return true, nil
}

func (s *set) Remove(ctx context.Context, element string) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, found := st.elements[element]; !found {
		return false, nil
	}
	st.unbind(element)
	delete(st.elements, element)
	st.feed.publish(driver.ElementEvent{Type: driver.EventRemoved, Element: element})
	return true, nil
}

func (s *set) Contains(ctx context.Context, element string) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	s.state.mu.RLock()
	defer s.state.mu.RUnlock()
	_, found := s.state.elements[element]
	return found, nil
}

func (s *set) Len(ctx context.Context) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	s.state.mu.RLock()
	defer s.state.mu.RUnlock()
	return len(s.state.elements), nil
}

func (s *set) Clear(ctx context.Context) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	for e := range st.elements {
		st.unbind(e)
		if st.feed.watched() {
			st.feed.publish(driver.ElementEvent{Type: driver.EventRemoved, Element: e})
		}
	}
	clear(st.elements)
	return nil
}

// Elements yields the elements of a snapshot taken when the iteration
// starts.
func (s *set) Elements(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := s.begin(ctx); err != nil {
			yield("", err)
			return
		}
		s.state.mu.RLock()
		snapshot := make([]string, 0, len(s.state.elements))
		for e := range s.state.elements {
			snapshot = append(snapshot, e)
		}
		s.state.mu.RUnlock()
		for _, e := range snapshot {
			if err := s.begin(ctx); err != nil {
				yield("", err)
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

func (s *set) Watch(ctx context.Context, ch chan<- driver.ElementEvent) error {
	return watch(ctx, s.handle, &s.state.mu, &s.state.feed, ch, nil)
}
