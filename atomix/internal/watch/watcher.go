package watch

import (
	"context"
	"sync"
)

// watcher is one local watcher: an unbounded FIFO queue that the dispatcher
// appends to and a goroutine (run) that empties it into ch.
type watcher[T any] struct {
	ctx    context.Context
	ch     chan<- T
	stream *stream[T]
	// wake holds a token when the queue may have grown or ended was set.
	wake chan struct{}

	mu    sync.Mutex
	queue []T
	ended bool // the backend watch ended: deliver the queue, then close
}

// push appends v to the queue. It never blocks.
func (w *watcher[T]) push(v T) {
	w.mu.Lock()
	w.queue = append(w.queue, v)
	w.mu.Unlock()
	w.signal()
}

// finish marks the end of the events: run closes ch once the queue is empty.
func (w *watcher[T]) finish() {
	w.mu.Lock()
	w.ended = true
	w.mu.Unlock()
	w.signal()
}

func (w *watcher[T]) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run delivers the queue to w.ch in order until the backend watch ends and
// the queue is empty, w.ctx ends, or the hub is closed; then it closes w.ch.
func (h *Hub[In, Out]) run(w *watcher[Out]) {
	defer h.wg.Done()
	// Released only after the close, so that a Watch given ch again cannot
	// start feeding it before it is closed.
	defer h.chans.release(w.ch)
	defer close(w.ch)
	var zero Out
	var batch []Out
	for {
		// Take the whole queue, handing back the emptied previous batch
		// as the next queue so steady state allocates nothing.
		w.mu.Lock()
		batch, w.queue = w.queue, batch[:0]
		ended := w.ended
		w.mu.Unlock()

		if len(batch) == 0 {
			if ended {
				return
			}
			select {
			case <-w.wake:
				continue
			case <-w.ctx.Done():
				h.leave(w)
				return
			case <-h.quit:
				return
			}
		}
		for i := range batch {
			select {
			case w.ch <- batch[i]:
				batch[i] = zero // drop the reference for the collector
			case <-w.ctx.Done():
				h.leave(w)
				return
			case <-h.quit:
				return
			}
		}
		if cap(batch) > maxKeptQueue {
			batch = nil // a burst is over: give its memory back
		}
	}
}

// maxKeptQueue is the largest queue capacity a watcher keeps for reuse.
const maxKeptQueue = 1024
