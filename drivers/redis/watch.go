package redis

import (
	"context"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// replica is a watcher's copy of one primitive, kept up to date from the
// changes its scripts publish. A watcher needs the copy to keep the watch
// contract across lost messages: when it cannot be sure it heard every
// change, it reads the whole state again and sends the difference between
// its copy and that state.
type replica[E any] interface {
	// load reads the state from the backend, with the sequence number of
	// the last change it includes, and returns the events that turn the
	// copy into it (none on the first load); the copy becomes that state.
	load(ctx context.Context, first bool) (seq uint64, events []E, err error)
	// apply applies one published change, whose sequence number seq is
	// the one after the copy's, and returns its events. change is read
	// from after the sequence number. Messages are not authenticated
	// (anyone allowed to PUBLISH on the channel can send one): apply
	// checks that the change is well formed and consistent with the copy,
	// never allocates more than a small multiple of the message's size,
	// and returns an error, leaving the copy unchanged, when it is not.
	apply(seq uint64, change *payload) ([]E, error)
}

// expiring is implemented by replicas whose state can change without a
// script publishing it (an election whose leader's session expires): the
// watcher loads the state again after recheck, if positive.
type expiring interface {
	recheck() time.Duration
}

// The sequence numbers. Every script that changes a watchable primitive
// increments the primitive's counter once per change it publishes and
// starts the message with the new value: a watcher that has applied change
// n expects n+1 next; a greater number means it missed a change. A counter
// that is missing starts from the server's clock (lua/counter.lua), so the
// first change to a new primitive, or the first after the server came back
// empty, jumps from the 0 a watcher loaded to about 2^51: a gap, after
// which the watcher re-reads the state, once.
//
// Messages are not authenticated: whoever may PUBLISH on the channel can
// forge one. A forged message with the next number would be applied and
// the genuine change with that number then taken for a repeat. So the
// watcher trusts a message only as far as the server confirms it:
//
//   - a message whose number is at most the one of the state it last
//     loaded (base) is ignored: that state includes the change;
//   - a message whose number it already applied from another message
//     (base < n <= last) means one of the two was forged, since the server
//     publishes each number once: the watcher re-reads the state;
//   - after applying messages, it reads the counter (one GET per batch of
//     messages applied): if the counter is below the last number applied,
//     a message announced a change the server never made, and the watcher
//     re-reads the state. If the counter has reached it, every number
//     applied was published by the server after the state was loaded, so
//     the genuine message of each one arrives too (or the subscription is
//     lost, which also makes the watcher re-read), and a forged one is
//     caught by the rule above.
//
// Anything malformed, inconsistent with the copy or out of order makes the
// watcher re-read. The scripts publish before writing and increment the
// counter last, so a script stopped by an error after publishing leaves
// the counter below the number it published.

// watcher is one Watch: it queues what the hub hears on the primitive's
// channel, applies it to its replica in order, and sends the events on ch.
type watcher[E any] struct {
	h       *handle
	replica replica[E]
	ch      chan<- E
	ctx     context.Context

	mu     sync.Mutex
	queue  []string // messages, or "" for "resubscribed"
	queued int      // bytes in queue
	signal chan struct{}

	seqKey     string // the primitive's sequence counter
	base       uint64 // sequence number of the state last loaded
	last       uint64 // sequence number of the last change applied
	unverified bool   // changes were applied that the counter has not confirmed
}

// The queue of a watcher that falls behind (its channel is not read, or
// messages are flooded) is replaced by one "resubscribed" marker past
// these bounds: the watcher then re-reads the state instead of holding
// every message.
const (
	maxQueuedMessages = 1 << 14
	maxQueuedBytes    = 64 << 20
)

// startWatch establishes a watch: it subscribes to the primitive's channel,
// waits for the confirmation, loads the state, and starts the goroutine
// that sends the events. Every change committed after it returns is
// delivered.
// seqKey is the key of the primitive's sequence counter.
func startWatch[E any](ctx context.Context, h *handle, r replica[E], seqKey string, ch chan<- E) error {
	if err := h.begin(ctx); err != nil {
		return err
	}
	w := &watcher[E]{h: h, replica: r, ch: ch, ctx: ctx, seqKey: seqKey, signal: make(chan struct{}, 1)}
	channel := h.ks.channel()
	if err := h.d.hub.subscribe(ctx, channel, w); err != nil {
		return h.fail(ctx, err, false)
	}
	seq, _, err := r.load(ctx, true)
	if err != nil {
		h.d.hub.unsubscribe(channel, w)
		return h.fail(ctx, err, false)
	}
	w.base, w.last = seq, seq
	if !h.startWatch() {
		h.d.hub.unsubscribe(channel, w)
		return errInstanceClosed
	}
	go w.run()
	return nil
}

func (w *watcher[E]) message(p string) {
	if p == "" {
		return // never published; "" is the resubscribed marker
	}
	w.enqueue(p)
}

func (w *watcher[E]) resubscribed() { w.enqueue("") }

func (w *watcher[E]) enqueue(item string) {
	w.mu.Lock()
	if len(w.queue) >= maxQueuedMessages || w.queued+len(item) > maxQueuedBytes {
		clear(w.queue)
		w.queue, w.queued = append(w.queue[:0], ""), 0
	} else {
		w.queue = append(w.queue, item)
		w.queued += len(item)
	}
	w.mu.Unlock()
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

// run applies what was queued and sends the events until the watch ends;
// then it closes ch.
func (w *watcher[E]) run() {
	defer w.h.watches.Done()
	defer close(w.ch)
	defer w.h.d.hub.unsubscribe(w.h.ks.channel(), w)
	var timer *time.Timer
	var timerC <-chan time.Time
	rearm := func() {
		ex, ok := w.replica.(expiring)
		if !ok {
			return
		}
		if timer != nil {
			timer.Stop()
			timerC = nil
		}
		if d := ex.recheck(); d > 0 {
			timer = time.NewTimer(d)
			timerC = timer.C
		}
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	rearm()
	var batch []string
	for {
		w.mu.Lock()
		batch, w.queue, w.queued = w.queue, batch[:0], 0
		w.mu.Unlock()
		if len(batch) == 0 {
			select {
			case <-w.signal:
				continue
			case <-timerC:
				timerC = nil
				if !w.reload(driver.ResyncExpiry, nil) {
					return
				}
				rearm()
				continue
			case <-w.ctx.Done():
				return
			case <-w.h.closedCh:
				return
			}
		}
		for i, item := range batch {
			batch[i] = ""
			if !w.handle(item) {
				return
			}
		}
		if w.unverified && !w.verify() {
			return
		}
		rearm()
	}
}

// handle applies one queued item and reports whether the watch goes on.
func (w *watcher[E]) handle(item string) bool {
	if item == "" {
		// Resubscribed after a reconnect, or the queue overflowed.
		return w.reload(driver.ResyncReconnect, nil)
	}
	p := &payload{s: item}
	seq := p.u64()
	switch {
	case p.err != nil:
		return w.reload(driver.ResyncInconsistent, p.err)
	case seq <= w.base:
		return true // already in the state the watcher loaded
	case seq <= w.last:
		// A second message with a number applied: one is forged.
		return w.reload(driver.ResyncInconsistent, nil)
	case seq != w.last+1:
		return w.reload(driver.ResyncGap, nil) // a change was missed
	}
	events, err := w.replica.apply(seq, p)
	if err != nil {
		return w.reload(driver.ResyncInconsistent, err)
	}
	w.last = seq
	w.unverified = true
	return w.send(events)
}

// verify reads the sequence counter and re-reads the state if the counter
// is below the last change applied, which a forged message announced (see
// the sequence numbers above). A failed read re-reads the state too.
func (w *watcher[E]) verify() bool {
	w.unverified = false
	n, err := w.h.client().Get(w.ctx, w.seqKey).Uint64()
	if err == goredis.Nil {
		n, err = 0, nil
	}
	if err == nil && n >= w.last {
		return true
	}
	if w.ctx.Err() != nil {
		return false
	}
	if err != nil {
		return w.reload(driver.ResyncReconnect, err)
	}
	return w.reload(driver.ResyncInconsistent, nil)
}

// reload reads the state again, retrying until it succeeds or the watch
// ends, and sends the difference. reason and cause say why, to the
// driver's Observer.
func (w *watcher[E]) reload(reason driver.ResyncReason, cause error) bool {
	delay := 50 * time.Millisecond
	for {
		seq, events, err := w.replica.load(w.ctx, false)
		if err == nil {
			w.base, w.last, w.unverified = seq, seq, false
			if reason != driver.ResyncExpiry {
				w.h.d.Observer().WatchResynced(w.h.kind, w.h.id, reason, cause)
			}
			return w.send(events)
		}
		select {
		case <-w.ctx.Done():
			return false
		case <-w.h.closedCh:
			return false
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// send sends events on ch, blocking while ch is full.
func (w *watcher[E]) send(events []E) bool {
	for _, e := range events {
		select {
		case w.ch <- e:
		case <-w.ctx.Done():
			return false
		case <-w.h.closedCh:
			return false
		}
	}
	return true
}
