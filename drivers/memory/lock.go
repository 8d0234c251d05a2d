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

// lockHold is one owner's acquisition, as the store records it: queued,
// then granted, then ended. It is bound to the session it was made with.
type lockHold struct {
	state   *lockState
	owner   string
	session *sessionState
	granted chan struct{} // closed when the hold is granted
	gone    chan struct{} // closed when the hold or the wait ends
	version uint64        // fencing version, set when granted; guarded by state.mu
	ended   bool          // guarded by state.mu
}

// add records a new acquisition by owner bound to ss: granted at once if
// the lock is free, else queued if wait is set; nil if neither. st.mu must
// be held.
func (st *lockState) add(ss *sessionState, owner string, wait bool) (*lockHold, error) {
	if st.holder != nil && !wait {
		return nil, nil
	}
	h := &lockHold{state: st, owner: owner, session: ss, granted: make(chan struct{}), gone: make(chan struct{})}
	if !ss.bind(h) {
		return nil, errSessionEnded(ss)
	}
	if st.holder == nil {
		st.grant(h)
	} else {
		st.queue = append(st.queue, h)
	}
	return h, nil
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
	close(h.gone)
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
			close(next.gone)
			continue
		}
		st.grant(next)
		break
	}
	return true
}

// withdraw ends h, whether it waits or holds.
func (st *lockState) withdraw(h *lockHold) {
	st.mu.Lock()
	st.end(h)
	st.mu.Unlock()
}

// sessionEnded releases the hold, or withdraws the wait, when its session
// ends.
func (h *lockHold) sessionEnded() { h.state.withdraw(h) }

func (h *lockHold) hold() driver.Hold { return driver.Hold{Version: h.version, Gone: h.gone} }

// lock implements driver.Lock. It keeps no owner state: holds and waits
// are the store's, identified by owner and version.
type lock struct {
	*handle
	state *lockState
}

// Acquire queues owner behind the holder and earlier waiters and waits
// until the lock is granted. If ctx ends or the instance or its connection
// is closed first, the wait is withdrawn (or the hold granted meanwhile
// released) and ctx.Err() or ErrClosed returned. If the connection crashed,
// the wait is left for the session's expiry to remove, as a dead process
// would leave it. If the session ends while Acquire waits, Acquire returns
// ErrClosed once the session's Done is closed.
func (l *lock) Acquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, error) {
	h, err := l.add(ctx, s, owner, true)
	if err != nil {
		return driver.Hold{}, err
	}
	if err := l.awaitGrant(ctx, h.granted, h.gone, h.session); err != nil {
		if l.d.state.Load() != connCrashed {
			l.state.withdraw(h)
		}
		return driver.Hold{}, err
	}
	return h.hold(), nil
}

// TryAcquire grants the lock to owner only if nobody holds it.
func (l *lock) TryAcquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, bool, error) {
	h, err := l.add(ctx, s, owner, false)
	if err != nil || h == nil {
		return driver.Hold{}, false, err
	}
	return h.hold(), true, nil
}

// add records an acquisition by owner in the store; see lockState.add.
func (l *lock) add(ctx context.Context, s driver.Session, owner string, wait bool) (*lockHold, error) {
	if err := l.begin(ctx); err != nil {
		return nil, err
	}
	ss, err := l.sessionOf(s)
	if err != nil {
		return nil, err
	}
	l.state.mu.Lock()
	defer l.state.mu.Unlock()
	return l.state.add(ss, owner, wait)
}

// Release ends the hold of owner with version, if it is the current one.
func (l *lock) Release(ctx context.Context, owner string, version uint64) (bool, error) {
	return l.release(ctx, func(h *lockHold) bool { return h.owner == owner && h.version == version })
}

// ReleaseVersion ends the current hold, whoever has it, if its version is
// version.
func (l *lock) ReleaseVersion(ctx context.Context, version uint64) (bool, error) {
	return l.release(ctx, func(h *lockHold) bool { return h.version == version })
}

// release ends the current hold if match accepts it.
func (l *lock) release(ctx context.Context, match func(*lockHold) bool) (bool, error) {
	if err := l.begin(ctx); err != nil {
		return false, err
	}
	st := l.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.holder == nil || !match(st.holder) {
		return false, nil
	}
	return st.end(st.holder), nil
}

// Holder reports the current hold.
func (l *lock) Holder(ctx context.Context) (uint64, bool, error) {
	if err := l.begin(ctx); err != nil {
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
