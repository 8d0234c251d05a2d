package memory

import (
	"context"
	"sync"
)

// feed fans the changes of one primitive out to its watches. It is guarded
// by the primitive's state mutex, and publish is called with that mutex
// held, in the same critical section as the change: that is what puts every
// watch's events in commit order.
type feed[E any] struct {
	subs map[*subscription[E]]struct{}
}

// watched reports whether anyone watches, so that writers can skip building
// events nobody reads.
func (f *feed[E]) watched() bool { return len(f.subs) > 0 }

// publish queues e for every watch. It never blocks.
func (f *feed[E]) publish(e E) {
	for s := range f.subs {
		s.push(e)
	}
}

// subscription is one watch's unbounded queue: writers append to it without
// waiting, and the watch's goroutine drains it into the caller's channel at
// the caller's pace.
type subscription[E any] struct {
	mu    sync.Mutex
	queue []E
	ready chan struct{} // holds a token while queue may be non-empty
}

func (s *subscription[E]) push(e E) {
	s.mu.Lock()
	s.queue = append(s.queue, e)
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// take swaps the queued events for spare, an emptied earlier batch whose
// array the queue may reuse.
func (s *subscription[E]) take(spare []E) []E {
	s.mu.Lock()
	batch := s.queue
	s.queue = spare[:0]
	s.mu.Unlock()
	return batch
}

// watch starts a watch of f for the instance h: once it returns nil, every
// event published afterwards is sent on ch, in order, until ctx ends or h or
// its connection is closed; then ch is closed. mu is the lock that guards f.
// clone, if not nil, copies each event before it is sent so that watchers
// share nothing with the store or with each other. When watch returns an
// error, ch is left open.
func watch[E any](ctx context.Context, h *handle, mu sync.Locker, f *feed[E], ch chan<- E, clone func(E) E) error {
	if err := h.begin(ctx); err != nil {
		return err
	}
	h.mu.Lock()
	if err := h.begin(ctx); err != nil {
		h.mu.Unlock()
		return err
	}
	h.watches.Add(1)
	h.mu.Unlock()

	s := &subscription[E]{ready: make(chan struct{}, 1)}
	mu.Lock()
	if f.subs == nil {
		f.subs = map[*subscription[E]]struct{}{}
	}
	f.subs[s] = struct{}{}
	mu.Unlock()

	go func() {
		defer h.watches.Done()
		defer close(ch)
		defer func() {
			mu.Lock()
			delete(f.subs, s)
			mu.Unlock()
		}()
		var batch []E
		for {
			batch = s.take(batch)
			if len(batch) == 0 {
				select {
				case <-s.ready:
					continue
				case <-ctx.Done():
				case <-h.closedCh:
				case <-h.d.done:
				}
				return
			}
			for i, e := range batch {
				if clone != nil {
					e = clone(e)
				}
				select {
				case ch <- e:
				case <-ctx.Done():
					return
				case <-h.closedCh:
					return
				case <-h.d.done:
					return
				}
				var zero E
				batch[i] = zero // let the event's memory go
			}
		}
	}()
	return nil
}
