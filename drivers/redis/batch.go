package redis

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/atomix/go-client/driver"
)

// Group commit.
//
// Redis runs one script at a time, and every script run costs the server a
// fixed amount before it does anything (see BenchmarkScriptFloor), about a
// third of a Map.Put's server time, and the client a round trip of its own.
// Many goroutines writing one primitive at once would pay that for every
// write. A batcher instead sends the writes that arrive while earlier ones
// are in flight together, in one run of a batch script that applies them
// one after the other, each as its own script would.
//
//   - A write that finds fewer than maxRunsInFlight runs of its batcher in
//     flight is sent at once, alone, with its own script and its caller's
//     context: a client that makes a few writes at a time sees no
//     difference at all.
//   - Writes that arrive while that many are in flight wait in a queue.
//     When a run in flight ends, the queue (up to maxBatchWrites writes and
//     maxBatchBytes of arguments) is sent as one run of the batch script in
//     its place, by a goroutine of the batcher, and the next queue behind
//     that run.
//   - Each write keeps its own precondition, version and change message, in
//     the order of the queue, which is an order of calls that were all in
//     progress at once: every write still takes effect between its call and
//     its return. Runs in flight at once are calls in progress at once too,
//     which Redis runs one after the other in some order.
//   - A caller whose context ends while its write waits in the queue takes
//     it out: it was never sent, and the caller gets its context's error. A
//     caller whose context ends once its batch is sent gets ErrAmbiguous
//     with its context's error, as for a write of its own.
//   - A batch whose reply is lost makes every write in it ErrAmbiguous; a
//     batch refused before it ran (the server is loading, the connection
//     could not be made) fails each write with that error.
//
// The batch run does not end with any one caller's context: it has no
// cancellation, and the latest deadline of its writes (none if one of them
// has none, leaving it to the client's read and write timeouts).
type batcher struct {
	h      *handle
	script *script
	keys   scriptKeys
	// head is the batch script's first arguments; each write adds its own.
	head []any
	// fields is the number of reply fields of each write.
	fields int

	mu       sync.Mutex
	inFlight int // script runs of this batcher in flight, alone or batches
	queue    []*queuedWrite
}

// Bounds of one batch run. The server runs nothing else while it runs the
// batch (about 10 µs a map write), and sends its reply in one piece.
const (
	maxBatchWrites = 64
	maxBatchBytes  = 1 << 20
)

// maxRunsInFlight is how many script runs of one batcher may be in flight
// at once, each alone or a batch. A write waits only when that many are: a
// few callers at once each send their own write as they would without a
// batcher, overlapping their round trips, and more callers queue and share
// runs. With one, two callers writing in turns would each wait for the
// other's run: from two and four goroutines a map took 0.55x and 0.62x of
// go-redis's HSETs per second, where it takes about 0.8x with none and
// with four.
const maxRunsInFlight = 4

// queuedWrite is a write waiting in a batcher's queue, then its outcome.
type queuedWrite struct {
	ctx  context.Context
	args []any
	size int
	done chan struct{} // closed when reply and err are set

	sent  bool // taken into a batch (guarded by the batcher's mu)
	reply any
	err   error
}

// newBatcher returns a batcher that runs s with keys and the arguments
// head, then those of each write; s replies with fields fields per write.
func newBatcher(h *handle, s *script, keys scriptKeys, fields int, head ...any) *batcher {
	return &batcher{h: h, script: s, keys: keys, fields: fields, head: head}
}

// write runs one write. If fewer than maxRunsInFlight runs of b are in
// flight it calls alone, which runs the write's own script, and returns its
// reply and error. Otherwise it queues the write for the next batch run,
// with the arguments to the batch script and their size in bytes that
// queued returns, and returns the write's part of that run's reply as its
// own script would reply: its one field if b.fields is 1, else a slice of
// b.fields fields. (A write sent alone builds no batch arguments.)
func (b *batcher) write(ctx context.Context, alone func(context.Context) (any, error), queued func() (args []any, size int)) (any, error) {
	b.mu.Lock()
	if b.inFlight < maxRunsInFlight {
		b.inFlight++
		b.mu.Unlock()
		defer b.next()
		return alone(ctx)
	}
	args, size := queued()
	w := &queuedWrite{ctx: ctx, args: args, size: size, done: make(chan struct{})}
	b.queue = append(b.queue, w)
	b.mu.Unlock()
	select {
	case <-w.done:
		return w.reply, w.err
	case <-ctx.Done():
	}
	b.mu.Lock()
	select {
	case <-w.done: // the outcome came with the context's end
		b.mu.Unlock()
		return w.reply, w.err
	default:
	}
	sent := w.sent
	if !sent {
		b.remove(w)
	}
	b.mu.Unlock()
	if !sent {
		return nil, ctx.Err()
	}
	return nil, driver.Interrupted(ctx, true)
}

// remove takes w, not yet sent, out of the queue. b.mu is held.
func (b *batcher) remove(w *queuedWrite) {
	if i := slices.Index(b.queue, w); i >= 0 {
		b.queue = slices.Delete(b.queue, i, i+1)
	}
}

// next ends a run in flight: it starts a batch run of the queue behind
// it, if any, in its place, else frees its place.
func (b *batcher) next() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		b.inFlight--
		return
	}
	go b.flush()
}

// flush sends the queue in batch runs, one at a time, until it is empty,
// then frees the place in flight it took over.
func (b *batcher) flush() {
	for {
		batch := b.take()
		if batch == nil {
			return
		}
		b.send(batch)
	}
}

// take takes the next batch from the queue, marked sent, or frees the
// caller's place in flight and returns nil if the queue is empty.
func (b *batcher) take() []*queuedWrite {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, size := 0, 0
	for n < len(b.queue) && n < maxBatchWrites && (n == 0 || size+b.queue[n].size <= maxBatchBytes) {
		size += b.queue[n].size
		b.queue[n].sent = true
		n++
	}
	if n == 0 {
		b.inFlight--
		return nil
	}
	batch := slices.Clone(b.queue[:n])
	b.queue = slices.Delete(b.queue, 0, n)
	return batch
}

// send runs batch as one run of the batch script and hands each write its
// part of the reply, or the run's error.
func (b *batcher) send(batch []*queuedWrite) {
	width := b.fields
	finish := func(reply []any, err error) {
		for i, w := range batch {
			switch {
			case err != nil:
			case width == 1:
				w.reply = reply[i]
			default:
				w.reply = reply[i*width : (i+1)*width : (i+1)*width]
			}
			w.err = err
			close(w.done)
		}
	}
	if err := b.h.closedError(); err != nil {
		finish(nil, err)
		return
	}
	ctx, cancel := batchContext(batch)
	defer cancel()
	args := make([]any, 0, len(b.head)+len(batch)*len(batch[0].args))
	args = append(args, b.head...)
	for _, w := range batch {
		args = append(args, w.args...)
	}
	r, err := b.script.run(ctx, b.h.client(), b.keys, args...)
	if err != nil {
		finish(nil, err)
		return
	}
	a, err := replyArray(r, len(batch)*width)
	finish(a, err)
}

// batchContext returns the context of a batch run: the values of its first
// write's context, no cancellation, and the latest deadline of its writes,
// or none if one of them has none.
func batchContext(batch []*queuedWrite) (context.Context, context.CancelFunc) {
	ctx := context.WithoutCancel(batch[0].ctx)
	var latest time.Time
	for _, w := range batch {
		d, ok := w.ctx.Deadline()
		if !ok {
			return ctx, func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(ctx, latest)
}
