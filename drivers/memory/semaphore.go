package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/atomix/go-client/driver"
)

// semaphoreState is the store's state of one semaphore: its limit, the
// acquisitions holding permits, the FIFO queue of waiters, and the last
// fencing version granted.
//
// Invariant: the head of the queue, if any, does not fit in the free
// permits (every change that frees permits grants waiters from the head
// while they fit). Waiters are granted strictly in arrival order, so a
// large request is never overtaken by smaller ones that came after it.
type semaphoreState struct {
	mu    sync.Mutex
	limit int    // recorded by the first open; never changes
	last  uint64 // version of the latest grant; the next is last+1
	held  int    // permits held
	holds []*semaphoreHold
	queue []*semaphoreHold
}

// semaphoreHold is one owner's acquisition: queued, then granted, then
// ended. It is bound to the session it was made with.
type semaphoreHold struct {
	state   *semaphoreState
	owner   string
	permits int
	session *sessionState
	granted chan struct{} // closed when the permits are granted
	gone    chan struct{} // closed when the hold or the wait ends
	version uint64        // fencing version, set when granted; guarded by state.mu
	ended   bool          // guarded by state.mu
}

// fits reports whether permits more permits can be granted now, without
// overtaking a waiter. st.mu must be held.
func (st *semaphoreState) fits(permits int) bool {
	return len(st.queue) == 0 && st.held+permits <= st.limit
}

// add records a new acquisition of permits by owner bound to ss: granted
// at once if they fit, else queued if wait is set; nil if neither. st.mu
// must be held.
func (st *semaphoreState) add(ss *sessionState, owner string, permits int, wait bool) (*semaphoreHold, error) {
	free := st.fits(permits)
	if !free && !wait {
		return nil, nil
	}
	h := &semaphoreHold{state: st, owner: owner, permits: permits, session: ss,
		granted: make(chan struct{}), gone: make(chan struct{})}
	if !ss.bind(h) {
		return nil, errSessionEnded(ss)
	}
	if free {
		st.grant(h)
	} else {
		st.queue = append(st.queue, h)
	}
	return h, nil
}

// grant gives h its permits with the next version. st.mu must be held.
func (st *semaphoreState) grant(h *semaphoreHold) {
	st.last++
	h.version = st.last
	st.held += h.permits
	st.holds = append(st.holds, h)
	close(h.granted)
}

// end ends h, held or waiting, and grants waiters from the head of the
// queue while they fit. It reports whether h held permits. st.mu must be
// held.
func (st *semaphoreState) end(h *semaphoreHold) bool {
	if h.ended {
		return false
	}
	h.ended = true
	close(h.gone)
	h.session.unbind(h)
	held := false
	if i := slices.Index(st.holds, h); i >= 0 {
		st.holds = slices.Delete(st.holds, i, i+1)
		st.held -= h.permits
		held = true
	} else if i := slices.Index(st.queue, h); i >= 0 {
		st.queue = slices.Delete(st.queue, i, i+1)
	}
	for len(st.queue) > 0 {
		next := st.queue[0]
		if next.session.ended.Load() {
			// Its session is ending; its release will find it ended.
			st.queue = slices.Delete(st.queue, 0, 1)
			next.ended = true
			close(next.gone)
			continue
		}
		if st.held+next.permits > st.limit {
			break
		}
		st.queue = slices.Delete(st.queue, 0, 1)
		st.grant(next)
	}
	return held
}

// withdraw ends h, whether it waits or holds.
func (st *semaphoreState) withdraw(h *semaphoreHold) {
	st.mu.Lock()
	st.end(h)
	st.mu.Unlock()
}

// sessionEnded releases the permits, or withdraws the wait, when the
// session ends.
func (h *semaphoreHold) sessionEnded() { h.state.withdraw(h) }

func (h *semaphoreHold) hold() driver.Hold { return driver.Hold{Version: h.version, Gone: h.gone} }

// semaphore implements driver.Semaphore. It keeps no owner state:
// acquisitions are the store's, identified by owner and version.
type semaphore struct {
	*handle
	state *semaphoreState
}

var _ driver.Semaphore = (*semaphore)(nil)

// OpenSemaphore opens the semaphore id with limit permits. The first open
// of id records the limit in the store for the life of the store; an open
// with another limit is ErrConflict.
func (d *Driver) OpenSemaphore(_ context.Context, id driver.ID, limit int) (driver.Semaphore, error) {
	if limit < 1 {
		return nil, driver.Errorf(driver.ErrInvalid, "semaphore limit %d is below 1", limit)
	}
	st := state(d.store, "semaphore", id, func() *semaphoreState { return &semaphoreState{limit: limit} })
	st.mu.Lock()
	recorded := st.limit
	st.mu.Unlock()
	if recorded != limit {
		return nil, driver.Errorf(driver.ErrConflict, "the semaphore has a limit of %d, not %d", recorded, limit)
	}
	h, err := d.open()
	if err != nil {
		return nil, err
	}
	return &semaphore{handle: h, state: st}, nil
}

// Acquire queues owner behind earlier waiters and waits until its permits
// are granted, as Lock.Acquire does (see lock.Acquire for how a wait ends).
func (s *semaphore) Acquire(ctx context.Context, ds driver.Session, owner string, permits int) (driver.Hold, error) {
	h, err := s.add(ctx, ds, owner, permits, true)
	if err != nil {
		return driver.Hold{}, err
	}
	if err := s.awaitGrant(ctx, h.granted, h.gone, h.session); err != nil {
		if s.d.state.Load() != connCrashed {
			s.state.withdraw(h)
		}
		return driver.Hold{}, err
	}
	return h.hold(), nil
}

// TryAcquire grants the permits only if they are free and nobody waits.
func (s *semaphore) TryAcquire(ctx context.Context, ds driver.Session, owner string, permits int) (driver.Hold, bool, error) {
	h, err := s.add(ctx, ds, owner, permits, false)
	if err != nil || h == nil {
		return driver.Hold{}, false, err
	}
	return h.hold(), true, nil
}

// add records an acquisition by owner in the store; see semaphoreState.add.
func (s *semaphore) add(ctx context.Context, ds driver.Session, owner string, permits int, wait bool) (*semaphoreHold, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if permits < 1 || permits > s.state.limit {
		return nil, driver.Errorf(driver.ErrInvalid, "%d permits of a semaphore of %d", permits, s.state.limit)
	}
	ss, err := s.sessionOf(ds)
	if err != nil {
		return nil, err
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	return s.state.add(ss, owner, permits, wait)
}

// Release ends the acquisition of owner with version, if it holds permits.
func (s *semaphore) Release(ctx context.Context, owner string, version uint64) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	i := slices.IndexFunc(st.holds, func(h *semaphoreHold) bool { return h.owner == owner && h.version == version })
	if i < 0 {
		return false, nil
	}
	return st.end(st.holds[i]), nil
}

// Available reports the limit minus the permits held.
func (s *semaphore) Available(ctx context.Context) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.limit - st.held, nil
}
