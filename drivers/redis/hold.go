package redis

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// holdWatch is one acquisition's listener on its lock's channel, on which
// every removal of a hold publishes the hold's version, followed by the
// queue member whose turn it is ("<version> <member>", version 0 when no
// hold was removed). While the acquisition waits, a message that names it
// wakes it; once it holds the lock, the removal of its version makes it
// read the hold, and gone is closed if the hold is indeed gone. Messages
// are not authenticated (anyone allowed to PUBLISH on the channel can send
// one): a forged one can wake a waiter, which then tries again, or make a
// holder read the hold, never close a live hold's gone.
type holdWatch struct {
	me      string        // the acquisition's queue member
	wake    chan struct{} // it was named, or the channel was resubscribed
	recheck chan struct{} // the hold must be read: its removal was heard, or removals may have been missed
	gone    chan struct{}

	mu      sync.Mutex
	version uint64   // the version held, 0 while waiting
	heard   []uint64 // versions removed since the current attempt was sent
	ended   bool
}

func newHoldWatch(me string) *holdWatch {
	return &holdWatch{
		me:      me,
		wake:    make(chan struct{}, 1),
		recheck: make(chan struct{}, 1),
		gone:    make(chan struct{}),
	}
}

// message hears the removal of a hold, and whose turn it is.
func (w *holdWatch) message(payload string) {
	ver, next, _ := strings.Cut(payload, " ")
	v, err := strconv.ParseUint(ver, 10, 64)
	if err != nil {
		return
	}
	w.mu.Lock()
	switch {
	case v == 0:
	case w.version == 0:
		w.heard = append(w.heard, v)
	case w.version == v:
		poke(w.recheck)
	}
	w.mu.Unlock()
	if next == w.me {
		poke(w.wake)
	}
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
// of version taken by an acquisition listening with w: when a read of the
// hold, made when its removal is heard or after a lost subscription, finds
// it gone, or when its session ends (which is also when the driver is
// closed). A read that fails is tried again. The goroutine then leaves the
// lock's channel. The session counts it (see session.bind): it has
// returned when the session's end returns.
func (l *lock) watchHold(w *holdWatch, ss *session, version uint64) <-chan struct{} {
	w.hold(version)
	l.holdingMu.Lock()
	l.holding[version] = w
	l.holdingMu.Unlock()
	go func() {
		defer ss.watchers.Done()
		defer l.d.hub.unsubscribe(l.ks.channel(), w)
		defer func() {
			l.holdingMu.Lock()
			if l.holding[version] == w {
				delete(l.holding, version)
			}
			l.holdingMu.Unlock()
		}()
		defer w.end()
		for {
			select {
			case <-w.gone:
				return
			case <-ss.Done():
				return
			case <-w.recheck:
				if !l.holdLive(ss, version) {
					return
				}
			}
		}
	}()
	return w.gone
}

// holdLive reads the hold, trying again until a read succeeds, and reports
// whether the hold of version is live; false also when the session ends.
func (l *lock) holdLive(ss *session, version uint64) bool {
	delay := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), ss.ttl)
		cur, err := l.holder(ctx)
		cancel()
		if err == nil {
			return cur == version
		}
		select {
		case <-ss.Done():
			return false
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}
