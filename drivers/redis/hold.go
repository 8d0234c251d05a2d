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
type holdWatch struct {
	wake    chan struct{} // the waiter's turn came, or the channel was resubscribed
	recheck chan struct{} // the hold must be read: its removal was heard, or removals may have been missed
	gone    chan struct{}

	mu      sync.Mutex
	version uint64   // the version held, 0 while waiting
	heard   []uint64 // versions removed since the current attempt was sent
	ended   bool
	// releasing is set while a release through the instance is under
	// way (see startRelease), and missed once the removal of the version
	// held was heard meanwhile.
	releasing, missed bool
}

func newHoldWatch() *holdWatch {
	return &holdWatch{
		wake:    make(chan struct{}, 1),
		recheck: make(chan struct{}, 1),
		gone:    make(chan struct{}),
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
		poke(w.recheck)
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
	defer w.mu.Unlock()
	w.releasing = false
	if removed {
		w.endLocked()
		return
	}
	if w.missed {
		w.missed = false
		poke(w.recheck)
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
	poke(w.recheck)
}

func (w *holdWatch) resubscribed() {
	poke(w.wake)
	poke(w.recheck)
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

// hold records the version taken; the hold is read at once if its removal
// was already heard.
func (w *holdWatch) hold(version uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.version = version
	if slices.Contains(w.heard, version) {
		poke(w.recheck)
	}
	w.heard = nil
}

func (w *holdWatch) end() {
	w.mu.Lock()
	w.endLocked()
	w.mu.Unlock()
}

func (w *holdWatch) endLocked() {
	if !w.ended {
		w.ended = true
		close(w.gone)
	}
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// watchHold starts the goroutine that closes the Gone channel of the hold
// of version taken by an acquisition listening with w (see watchGone).
func (l *lock) watchHold(w *lockWatch, ss *session, version uint64) <-chan struct{} {
	return l.watchGone(w, w.holdWatch, ss, version, func(ctx context.Context) (bool, error) {
		cur, err := l.holder(ctx)
		return cur == version, err
	})
}

// watchGone starts the goroutine that closes the Gone channel of the hold
// of version taken by an acquisition whose listener l (on h's channel)
// passes removals to w: when live, a read of the hold made when its removal
// is heard or after a lost subscription, reports it gone, or when its
// session ends (which is also when the driver is closed), or when a
// Release through h removed it (see holdWatch.startRelease). A read that
// fails is tried again. The goroutine then leaves the channel. The session
// counts it (see session.bind): it has returned when the session's end
// returns.
func (h *handle) watchGone(l listener, w *holdWatch, ss *session, version uint64, live func(context.Context) (bool, error)) <-chan struct{} {
	w.hold(version)
	h.holdingMu.Lock()
	if h.holding == nil {
		h.holding = map[uint64]*holdWatch{}
	}
	h.holding[version] = w
	h.holdingMu.Unlock()
	go func() {
		defer ss.watchers.Done()
		defer h.d.hub.unsubscribe(h.ks.channel(), l)
		defer func() {
			h.holdingMu.Lock()
			if h.holding[version] == w {
				delete(h.holding, version)
			}
			h.holdingMu.Unlock()
		}()
		defer w.end()
		for {
			select {
			case <-w.gone:
				return
			case <-ss.Done():
				return
			case <-w.recheck:
				if !holdLive(ss, live) {
					return
				}
			}
		}
	}()
	return w.gone
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
