// Package watch fans one backend watch out to any number of local watchers.
//
// A Hub belongs to one primitive instance. The first local watcher starts the
// backend watch (a driver's Watch method) and waits until it is established;
// later watchers join it at once. Every backend event is converted once and
// appended to each watcher's own unbounded FIFO queue, which a goroutine per
// watcher empties into the watcher's channel: a slow reader delays only
// itself, and no event is dropped. When the last local watcher leaves, the
// backend watch is cancelled; the next watcher starts a new one.
package watch

import (
	"context"
	"fmt"
	"sync"

	"github.com/atomix/go-client/driver"
)

// Source starts a backend watch under the driver package's watch contract:
// it returns once the watch is established, sends events on ch in commit
// order, and closes ch when ctx ends or the watch fails for good.
type Source[In any] func(ctx context.Context, ch chan<- In) error

// Convert turns a backend event into the event watchers receive. An error
// ends the backend watch as if it had failed for good: the watchers get every
// event before the bad one, then their channels are closed.
type Convert[In, Out any] func(In) (Out, error)

// inBuffer is the capacity of the channel the backend watch sends on. The
// hub never blocks while reading it, so a small buffer only smooths bursts.
const inBuffer = 16

// Hub is the fan-out of one primitive instance's watches. Its methods are
// safe for concurrent use.
type Hub[In, Out any] struct {
	source  Source[In]
	convert Convert[In, Out]
	// chans holds the channels the hub's live watchers feed, shared with
	// other hubs or the hub's own.
	chans *Channels

	// starting is a one-token semaphore held while a backend watch is
	// being established, so that concurrent first watchers start only one.
	starting chan struct{}
	// quit is closed by Close; every goroutine of the hub selects on it.
	quit chan struct{}
	// wg counts the hub's goroutines: dispatchers and watchers.
	wg sync.WaitGroup

	mu     sync.Mutex
	closed bool
	cur    *stream[Out] // the running backend watch, nil when none
}

// stream is one backend watch and the local watchers it feeds.
type stream[Out any] struct {
	cancel   context.CancelFunc
	watchers map[*watcher[Out]]struct{}
}

// New returns a Hub whose backend watch is source, converted by convert.
// chans is the set of channels in use, shared by the hubs that must refuse
// each other's channels (those of one client); nil gives the hub a set of
// its own.
func New[In, Out any](source Source[In], convert Convert[In, Out], chans *Channels) *Hub[In, Out] {
	if chans == nil {
		chans = new(Channels)
	}
	return &Hub[In, Out]{
		source:   source,
		convert:  convert,
		chans:    chans,
		starting: make(chan struct{}, 1),
		quit:     make(chan struct{}),
	}
}

// Watch adds a local watcher that receives every event on ch until ctx ends,
// the hub is closed, or the backend watch ends for good; then ch is closed.
// ch is closed exactly once, by the hub. A channel that a live watcher of a
// hub sharing the same Channels still feeds is refused with
// driver.ErrInvalid, since closing it twice would panic; a channel of a
// watcher that has ended is closed and must not be given to Watch again.
//
// Watch returns once the backend watch is established: at once when one is
// already running, else after starting one. A watcher that joins a running
// backend watch receives every event the hub reads from then on, which may
// include a few committed just before Watch returned, still in transit.
//
// On error ch is left untouched and not closed; the error is ctx.Err() when
// ctx ended first, driver.ErrClosed after Close, driver.ErrInvalid for a
// nil channel or one in use, or the backend's error.
func (h *Hub[In, Out]) Watch(ctx context.Context, ch chan<- Out) (err error) {
	if ch == nil {
		return fmt.Errorf("%w: nil channel", driver.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !h.chans.claim(ch) {
		return fmt.Errorf("%w: the channel is already given to a live watch; each Watch needs its own channel", driver.ErrInvalid)
	}
	// On success the watcher's goroutine releases ch once it has closed it.
	defer func() {
		if err != nil {
			h.chans.release(ch)
		}
	}()
	if joined, err := h.join(ctx, ch); joined || err != nil {
		return err
	}
	select {
	case h.starting <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-h.quit:
		return driver.ErrClosed
	}
	defer func() { <-h.starting }()
	// Another watcher may have started the backend watch while we waited.
	if joined, err := h.join(ctx, ch); joined || err != nil {
		return err
	}
	return h.start(ctx, ch)
}

// join adds a watcher to the running backend watch, if there is one.
func (h *Hub[In, Out]) join(ctx context.Context, ch chan<- Out) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false, driver.ErrClosed
	}
	if h.cur == nil {
		return false, nil
	}
	h.add(h.cur, ctx, ch)
	return true, nil
}

// start establishes a new backend watch with a first watcher. The caller
// holds the starting token.
func (h *Hub[In, Out]) start(ctx context.Context, ch chan<- Out) error {
	// The backend watch outlives the first watcher, so it gets its own
	// cancellation; it keeps ctx's values. Until it is established, ctx
	// ending abandons it.
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	in := make(chan In, inBuffer)
	err := h.source(bctx, in)
	if !stop() {
		cancel()
		return ctx.Err()
	}
	if err != nil {
		cancel()
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		cancel()
		return driver.ErrClosed
	}
	s := &stream[Out]{cancel: cancel, watchers: make(map[*watcher[Out]]struct{})}
	h.cur = s
	// The first watcher is in the stream before the dispatcher reads the
	// first event.
	h.add(s, ctx, ch)
	h.wg.Add(1)
	go h.dispatch(bctx, in, s)
	return nil
}

// add registers a watcher with s and starts its goroutine. h.mu is held.
func (h *Hub[In, Out]) add(s *stream[Out], ctx context.Context, ch chan<- Out) {
	w := &watcher[Out]{ctx: ctx, ch: ch, stream: s, wake: make(chan struct{}, 1)}
	s.watchers[w] = struct{}{}
	h.wg.Add(1)
	go h.run(w)
}

// dispatch reads the backend watch of s and queues every event for each of
// its watchers, never blocking on a watcher.
func (h *Hub[In, Out]) dispatch(ctx context.Context, in <-chan In, s *stream[Out]) {
	defer h.wg.Done()
	for {
		select {
		case ev, ok := <-in:
			if !ok {
				h.end(s)
				return
			}
			out, err := h.convert(ev)
			if err != nil {
				if h.chans.Failed != nil {
					h.chans.Failed(ev, err)
				}
				h.end(s)
				return
			}
			h.mu.Lock()
			for w := range s.watchers {
				w.push(out)
			}
			h.mu.Unlock()
		case <-ctx.Done():
			// Cancelled by the hub: the last watcher left or Close.
			return
		}
	}
}

// end finishes s after its backend watch ended for good: each watcher
// delivers what it has queued, then closes its channel.
func (h *Hub[In, Out]) end(s *stream[Out]) {
	h.mu.Lock()
	if h.cur == s {
		h.cur = nil
	}
	for w := range s.watchers {
		w.finish()
	}
	clear(s.watchers)
	h.mu.Unlock()
	s.cancel()
}

// leave removes a watcher whose context ended. The last watcher to leave a
// running backend watch cancels it.
func (h *Hub[In, Out]) leave(w *watcher[Out]) {
	h.mu.Lock()
	s := w.stream
	delete(s.watchers, w)
	last := len(s.watchers) == 0 && h.cur == s
	if last {
		h.cur = nil
	}
	h.mu.Unlock()
	if last {
		s.cancel()
	}
}

// Close ends the backend watch and closes every watcher's channel, without
// delivering what is still queued, and returns once every goroutine of the
// hub has exited. Later Watch calls return ErrClosed. Close is idempotent.
func (h *Hub[In, Out]) Close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.quit)
	}
	s := h.cur
	h.cur = nil
	h.mu.Unlock()
	if s != nil {
		s.cancel()
	}
	h.wg.Wait()
}
