package redis

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/atomix/go-client/driver"
)

// holdWatch is what one acquisition hears on its primitive's channel (a
// lock's or a semaphore's), on which every removal of a hold publishes the
// hold's version; the primitive's listener (lockWatch, semWatch) passes
// removals to it and decides what wakes the waiter. Once the acquisition
// holds, the removal of its version makes it read the hold, and gone is
// closed if the hold is indeed gone. Messages are not authenticated
// (anyone allowed to PUBLISH on the channel can send one): a forged one
// can wake a waiter, which then tries again, or make a holder read the
// hold, never close a live hold's gone.
//
// A hold keeps no goroutine of its own: gone is closed by whoever learns
// that the hold ended (a release through the instance, a read of the hold,
// the session's end: see finish), and a read of the hold runs in a
// goroutine only while one is due (see recheckLocked).
type holdWatch struct {
	wake chan struct{} // the waiter's turn came, or the channel was resubscribed
	gone *driver.GoneSignal

	mu      sync.Mutex
	version uint64   // the version held, 0 while waiting
	heard   []uint64 // versions removed since the current attempt was sent
	ended   bool
	// releasing is set while a release through the instance is under
	// way (see startRelease), and missed once the removal of the version
	// held was heard meanwhile.
	releasing, missed bool
	// pending is set when a read of the hold became due before it was
	// held (removals may have been missed): it is read once held.
	// checking is set while a goroutine reads it, and again when another
	// read became due meanwhile.
	pending, checking, again bool
	// Set by watchGone once held: the session, the read of the hold, and
	// what removes the watch from its handle, the hub and the session.
	ss    *session
	live  func(context.Context) (bool, error)
	leave func()
}

func newHoldWatch() *holdWatch {
	return &holdWatch{
		wake: make(chan struct{}, 1),
		gone: driver.NewGoneSignal(),
	}
}

// hear records the removal of the hold whose version is payload: while
// waiting, as heard; once holding, a removal of the version held makes the
// hold be read. It reports false if payload is not a version.
func (w *holdWatch) hear(payload string) bool {
	v, err := strconv.ParseUint(payload, 10, 64)
	if err != nil {
		return false
	}
	w.mu.Lock()
	switch {
	case w.version == 0:
		w.heard = append(w.heard, v)
	case w.version == v && w.releasing:
		w.missed = true
	case w.version == v:
		w.recheckLocked()
	}
	w.mu.Unlock()
	return true
}

// startRelease tells w, if not nil, that a release of its hold through
// the instance is under way: a removal of the hold heard meanwhile needs no
// read of the hold unless the release turns out not to have removed it.
// The release's own removal of a live hold publishes no version (see
// lua/lock_release.lua), so w learns of it from the release's reply alone.
// finishRelease or failRelease must follow.
func (w *holdWatch) startRelease() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.releasing = true
	w.mu.Unlock()
}

// finishRelease ends the watch if the release removed the hold; otherwise
// the watch goes on, and reads the hold if its removal was heard during
// the release, as it would have at once without it.
func (w *holdWatch) finishRelease(removed bool) {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.releasing = false
	if !removed && w.missed {
		w.missed = false
		w.recheckLocked()
	}
	w.mu.Unlock()
	if removed {
		w.finish()
	}
}

// failRelease ends a release through the instance whose outcome is
// unknown (its reply was lost or malformed): the watch goes on and reads
// the hold at once, since a release that did remove it published nothing
// w would hear.
func (w *holdWatch) failRelease() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.releasing, w.missed = false, false
	w.recheckLocked()
}

func (w *holdWatch) resubscribed() {
	poke(w.wake)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recheckLocked()
}

// forget drops what was heard before the next attempt, which follows
// anyway: a removal published before an attempt is not of the hold the
// attempt may take.
func (w *holdWatch) forget() {
	select {
	case <-w.wake:
	default:
	}
	w.mu.Lock()
	w.heard = w.heard[:0]
	w.mu.Unlock()
}

// hold records the version taken, which ss holds and live reads, and
// what removes the watch (leave); the hold is read at once if its removal
// was already heard, or if a read became due while waiting.
func (w *holdWatch) hold(version uint64, ss *session, live func(context.Context) (bool, error), leave func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.version, w.ss, w.live, w.leave = version, ss, live, leave
	if w.pending || slices.Contains(w.heard, version) {
		w.pending = false
		w.recheckLocked()
	}
	w.heard = nil
}

// recheckLocked makes the hold be read, in a goroutine that lasts as long
// as reads are due (see check); before the hold is taken, once it is
// taken. w.mu must be held.
func (w *holdWatch) recheckLocked() {
	switch {
	case w.ended:
	case w.live == nil:
		w.pending = true
	case w.checking:
		w.again = true
	default:
		w.checking = true
		go w.check()
	}
}

// check reads the hold until a read finds it live with no other read due
// since, or finds it gone (a read that fails is tried again: see
// holdLive): then the watch ends.
func (w *holdWatch) check() {
	for {
		if !holdLive(w.ss, w.live) {
			w.finish()
			return
		}
		w.mu.Lock()
		if !w.again || w.ended {
			w.checking = false
			w.mu.Unlock()
			return
		}
		w.again = false
		w.mu.Unlock()
	}
}

// finish ends the watch once: it leaves the handle, the hub and the
// session, then closes gone (which runs the calls of Hold.Notify).
func (w *holdWatch) finish() {
	w.mu.Lock()
	if w.ended {
		w.mu.Unlock()
		return
	}
	w.ended = true
	leave := w.leave
	w.mu.Unlock()
	if leave != nil {
		leave()
	}
	w.gone.Close()
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// watchHold returns the hold of version taken by an acquisition listening
// with w (see watchGone).
func (l *lock) watchHold(w *lockWatch, ss *session, version uint64) driver.Hold {
	return l.watchGone(w, w.holdWatch, ss, version, func(ctx context.Context) (bool, error) {
		cur, err := l.holder(ctx)
		return cur == version, err
	})
}

// watchGone returns the hold of version taken by an acquisition whose
// listener l (on h's channel) passes removals to w, and whose Gone closes
// when the hold is known to have ended: a read of the hold (live), made
// when its removal is heard or after a lost subscription, reports it gone;
// its session ends (which is also when the driver is closed: see
// session.track); or a Release through h removed it (see
// holdWatch.startRelease). A read that fails is tried again. The watch then
// leaves the channel. No goroutine waits for any of this: whoever learns
// of the end closes Gone (see holdWatch.finish).
func (h *handle) watchGone(l listener, w *holdWatch, ss *session, version uint64, live func(context.Context) (bool, error)) driver.Hold {
	h.holdingMu.Lock()
	if h.holding == nil {
		h.holding = map[uint64]*holdWatch{}
	}
	h.holding[version] = w
	h.holdingMu.Unlock()
	w.hold(version, ss, live, func() {
		ss.untrack(w)
		h.holdingMu.Lock()
		if h.holding[version] == w {
			delete(h.holding, version)
		}
		h.holdingMu.Unlock()
		h.d.hub.unsubscribe(h.ks.channel(), l)
	})
	if !ss.track(w) {
		w.finish() // the session ended meanwhile, and with it the hold
	}
	return w.gone.Hold(version)
}

// holdWatchOf returns the watch of the hold of version taken through h,
// or nil if there is none.
func (h *handle) holdWatchOf(version uint64) *holdWatch {
	h.holdingMu.Lock()
	defer h.holdingMu.Unlock()
	return h.holding[version]
}

// recheckAfter returns how long a queued waiter of session ss waits for a
// message naming it before it tries again anyway: until the lease of the
// holder (or of the waiter whose turn it is) would expire, ms from the
// server (-1: it has no expiry), and at most one renewal interval of ss
// (a third of its TTL). Only the waiter at the head of the queue is woken,
// by one PUBLISH; the hub makes every waiter try again when its
// subscription was made again, but a message can also be lost without a
// broken connection (published on a master that died before a replica
// took over, to a replica's subscribers that had not caught up): the
// bound makes that cost one renewal interval, not a holder's whole TTL.
func recheckAfter(ss *session, ms int64) time.Duration {
	left := ss.ttl / 3
	if ms >= 0 {
		left = min(left, time.Duration(ms)*time.Millisecond+2*time.Millisecond)
	}
	return left
}

// abandoned is the error of an acquisition given up with err (the caller's
// context ended, the session ended, an attempt failed) once its clean-up
// (releasing what it may hold and leaving the queue) failed with rerr, or
// succeeded (rerr nil). An attempt that failed and could not be cleaned
// up is ambiguous. When ctx has ended, a give-up the driver decided (the
// session ended: a lease that ran out during an outage) reports ctx.Err()
// like any other: the caller's deadline came first, and callers that
// start a new session when theirs ended must not take the deadline's
// expiry for their session's end.
func (h *handle) abandoned(ctx context.Context, err, rerr error) error {
	switch {
	case h.closed.Load():
		return errInstanceClosed
	case rerr != nil && !driver.IsClassified(err):
		return wrapError(ctx, err, true)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return wrapError(ctx, err, false)
}

// holdLive reads the hold with live, trying again until a read succeeds,
// and reports what the read says; false also when the session ends.
func holdLive(ss *session, live func(context.Context) (bool, error)) bool {
	delay := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), ss.ttl)
		ok, err := live(ctx)
		cancel()
		if err == nil {
			return ok
		}
		select {
		case <-ss.Done():
			return false
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}
