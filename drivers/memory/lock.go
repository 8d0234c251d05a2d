package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/atomix/go-client/driver"
)

// lockState is the store's state of one lock: the current hold, the FIFO
// queue of waiters, and the last fencing version granted.
//
// Invariant: when nobody holds the lock the queue is empty (releasing a hold
// grants the lock to the first waiter at once).
type lockState struct {
	mu     sync.Mutex
	last   uint64 // version of the latest grant; the next is last+1
	holder *lockHold
	queue  []*lockHold
}

func newLockState() *lockState { return &lockState{} }

// lockHold is one acquisition: queued, then granted, then ended. It is bound
// to the session it was made with.
type lockHold struct {
	state   *lockState
	session *sessionState
	granted chan struct{} // closed when the hold is granted
	lost    chan struct{} // closed when the hold or the wait ends
	version uint64        // fencing version, set when granted; guarded by state.mu
	ended   bool          // guarded by state.mu
}

func (st *lockState) newHold(s *sessionState) *lockHold {
	return &lockHold{state: st, session: s, granted: make(chan struct{}), lost: make(chan struct{})}
}

// grant makes h the holder with the next version. st.mu must be held.
func (st *lockState) grant(h *lockHold) {
	st.last++
	h.version = st.last
	st.holder = h
	close(h.granted)
}

// end ends h, held or waiting, and grants the lock to the next live waiter
// if h held it. It reports whether h was the holder. st.mu must be held.
func (st *lockState) end(h *lockHold) bool {
	if h.ended {
		return false
	}
	h.ended = true
	close(h.lost)
	h.session.unbind(h)
	if st.holder != h {
		if i := slices.Index(st.queue, h); i >= 0 {
			st.queue = slices.Delete(st.queue, i, i+1)
		}
		return false
	}
	st.holder = nil
	for len(st.queue) > 0 {
		next := st.queue[0]
		st.queue[0] = nil
		st.queue = st.queue[1:]
		if next.session.ended.Load() {
			// Its session is ending; its release will find it ended.
			next.ended = true
			close(next.lost)
			continue
		}
		st.grant(next)
		break
	}
	return true
}

// sessionEnded releases the hold, or withdraws the wait, when its session
// ends.
func (h *lockHold) sessionEnded() {
	h.state.mu.Lock()
	h.state.end(h)
	h.state.mu.Unlock()
}

// lock implements driver.Lock: one would-be owner of the lock.
type lock struct {
	*handle
	state   *lockState
	current *lockHold // the latest acquisition of this owner; guarded by handle.mu
}

// busy returns ErrConflict if this owner holds the lock or waits for it.
// l.mu must be held.
func (l *lock) busy(op string) error {
	h := l.current
	if h == nil {
		return nil
	}
	l.state.mu.Lock()
	defer l.state.mu.Unlock()
	switch {
	case h.ended:
		return nil
	case l.state.holder == h:
		return l.fail(op, driver.ErrConflict, "this owner already holds the lock (version %d)", h.version)
	default:
		return l.fail(op, driver.ErrConflict, "this owner is already acquiring the lock")
	}
}

// Acquire queues this owner behind the holder and earlier waiters and waits
// until the lock is granted, ctx ends (the wait is withdrawn), the session
// ends, or the instance or its connection closes.
func (l *lock) Acquire(ctx context.Context, s driver.Session) (uint64, <-chan struct{}, error) {
	const op = "acquire"
	if err := l.begin(ctx, op); err != nil {
		return 0, nil, err
	}
	ss, err := l.sessionOf(op, s)
	if err != nil {
		return 0, nil, err
	}
	st := l.state
	l.mu.Lock()
	if err := l.begin(ctx, op); err != nil {
		l.mu.Unlock()
		return 0, nil, err
	}
	if err := l.busy(op); err != nil {
		l.mu.Unlock()
		return 0, nil, err
	}
	h := st.newHold(ss)
	st.mu.Lock()
	if !ss.bind(h) {
		st.mu.Unlock()
		l.mu.Unlock()
		return 0, nil, l.fail(op, driver.ErrClosed, "session %s has ended", ss.id)
	}
	if st.holder == nil {
		st.grant(h)
	} else {
		st.queue = append(st.queue, h)
	}
	st.mu.Unlock()
	l.current = h
	l.mu.Unlock()

	select {
	case <-h.granted:
		return h.version, h.lost, nil
	case <-h.lost:
		select {
		case <-h.granted: // granted, then lost at once
			return h.version, h.lost, nil
		default:
			return 0, nil, l.fail(op, driver.ErrClosed, "session %s ended while waiting for the lock", ss.id)
		}
	case <-ctx.Done():
		if l.d.state.Load() == connCrashed {
			return 0, nil, ctx.Err() // a crashed owner leaves its wait to expire
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.holder == h {
			return h.version, h.lost, nil // granted before the cancellation was seen
		}
		st.end(h)
		return 0, nil, ctx.Err()
	case <-l.closedCh:
	case <-l.d.done:
	}
	// Closing the instance or the connection withdraws the wait (or, for a
	// crash, leaves it to expire with its session).
	return 0, nil, l.begin(ctx, op)
}

// TryAcquire grants the lock to this owner only if nobody holds it.
func (l *lock) TryAcquire(ctx context.Context, s driver.Session) (uint64, <-chan struct{}, bool, error) {
	const op = "try acquire"
	if err := l.begin(ctx, op); err != nil {
		return 0, nil, false, err
	}
	ss, err := l.sessionOf(op, s)
	if err != nil {
		return 0, nil, false, err
	}
	st := l.state
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.begin(ctx, op); err != nil {
		return 0, nil, false, err
	}
	if err := l.busy(op); err != nil {
		return 0, nil, false, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.holder != nil {
		return 0, nil, false, nil
	}
	h := st.newHold(ss)
	if !ss.bind(h) {
		return 0, nil, false, l.fail(op, driver.ErrClosed, "session %s has ended", ss.id)
	}
	st.grant(h)
	l.current = h
	return h.version, h.lost, true, nil
}

// Release ends this owner's hold, if it has one.
func (l *lock) Release(ctx context.Context) (bool, error) {
	const op = "release"
	if err := l.begin(ctx, op); err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.begin(ctx, op); err != nil {
		return false, err
	}
	h := l.current
	if h == nil {
		return false, nil
	}
	l.state.mu.Lock()
	defer l.state.mu.Unlock()
	if l.state.holder != h {
		return false, nil
	}
	return l.state.end(h), nil
}

// ReleaseVersion ends the current hold, whoever has it, if its version is
// version.
func (l *lock) ReleaseVersion(ctx context.Context, version uint64) (bool, error) {
	if err := l.begin(ctx, "release version"); err != nil {
		return false, err
	}
	st := l.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.holder == nil || st.holder.version != version {
		return false, nil
	}
	return st.end(st.holder), nil
}

// Holder reports the current hold.
func (l *lock) Holder(ctx context.Context) (uint64, bool, error) {
	if err := l.begin(ctx, "holder"); err != nil {
		return 0, false, err
	}
	st := l.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.holder == nil {
		return 0, false, nil
	}
	return st.holder.version, true, nil
}

// giveUp runs when the instance closes (l.mu held): it releases the hold or
// withdraws the wait, unless the connection crashed.
func (l *lock) giveUp(release bool) {
	if !release || l.current == nil {
		return
	}
	l.state.mu.Lock()
	l.state.end(l.current)
	l.state.mu.Unlock()
}
