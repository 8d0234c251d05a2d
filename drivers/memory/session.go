package memory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atomix/go-client/driver"
)

// binding is something bound to a session (a lock hold or wait, a
// candidacy) that the store releases when the session ends.
type binding interface {
	sessionEnded()
}

// sessionState is the store's record of a session: its deadline and what is
// bound to it. The store ends it one TTL after its last renewal.
type sessionState struct {
	store *Store
	id    string
	ttl   time.Duration
	done  chan struct{} // closed once everything bound has been released
	ended atomic.Bool

	mu       sync.Mutex
	deadline time.Time
	expiry   Timer
	bindings map[binding]uint64 // to the order of binding
	bound    uint64             // bindings made so far
}

func (s *Store) newSession(ttl time.Duration) *sessionState {
	ss := &sessionState{
		store:    s,
		id:       "memory-session-" + strconv.FormatUint(s.lastSession.Add(1), 10),
		ttl:      ttl,
		done:     make(chan struct{}),
		deadline: s.clock.Now().Add(ttl),
		bindings: map[binding]uint64{},
	}
	ss.mu.Lock()
	ss.expiry = s.clock.AfterFunc(ttl, ss.checkExpiry)
	ss.mu.Unlock()
	return ss
}

// renew pushes the deadline one TTL from now, unless the session has ended;
// it reports whether the session is alive.
func (ss *sessionState) renew() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended.Load() {
		return false
	}
	ss.deadline = ss.store.clock.Now().Add(ss.ttl)
	return true
}

// checkExpiry ends the session if its deadline has passed, and otherwise
// looks again at the deadline.
func (ss *sessionState) checkExpiry() {
	ss.mu.Lock()
	if ss.ended.Load() {
		ss.mu.Unlock()
		return
	}
	if left := ss.deadline.Sub(ss.store.clock.Now()); left > 0 {
		ss.expiry = ss.store.clock.AfterFunc(left, ss.checkExpiry)
		ss.mu.Unlock()
		return
	}
	ss.mu.Unlock()
	ss.end()
}

// end ends the session now: nothing can be bound to it any more, everything
// bound to it is released in the order it was bound, and then Done is
// closed. It reports whether this
// call ended it.
func (ss *sessionState) end() bool {
	ss.mu.Lock()
	if ss.ended.Load() {
		ss.mu.Unlock()
		return false
	}
	ss.ended.Store(true)
	bound := slices.SortedFunc(maps.Keys(ss.bindings), func(a, b binding) int {
		return cmp.Compare(ss.bindings[a], ss.bindings[b])
	})
	ss.bindings = nil
	if ss.expiry != nil {
		ss.expiry.Stop()
	}
	ss.mu.Unlock()
	for _, b := range bound {
		b.sessionEnded()
	}
	close(ss.done)
	return true
}

// bind binds b to the session, unless it has ended; it reports whether it
// did. Callers hold the mutex of b's primitive state, which is also what
// b.sessionEnded takes, so a binding is released at most once.
func (ss *sessionState) bind(b binding) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended.Load() {
		return false
	}
	ss.bound++
	ss.bindings[b] = ss.bound
	return true
}

// unbind forgets b, released by other means than the session's end.
func (ss *sessionState) unbind(b binding) {
	ss.mu.Lock()
	delete(ss.bindings, b)
	ss.mu.Unlock()
}

// session is a connection's handle on a session: it implements
// driver.Session and renews the session every third of its TTL until it is
// closed or its connection stops.
type session struct {
	d     *Driver
	state *sessionState

	mu      sync.Mutex
	renewal Timer
	stopped bool
}

var _ driver.Session = (*session)(nil)

// NewSession starts a session that the connection renews every third of its
// TTL. A zero TTL means the store's default ([DefaultSessionTTL] unless
// [WithDefaultSessionTTL] says otherwise); a positive TTL below
// [MinSessionTTL] is rounded up to it; a negative one is ErrInvalid.
func (d *Driver) NewSession(ctx context.Context, opts driver.SessionOptions) (driver.Session, error) {
	if err := d.check("new session"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ttl := opts.TTL
	switch {
	case ttl < 0:
		return nil, fmt.Errorf("memory: new session: %w: negative TTL %v", driver.ErrInvalid, ttl)
	case ttl == 0:
		ttl = d.store.sessionTTL
	case ttl < MinSessionTTL:
		ttl = MinSessionTTL
	}
	s := &session{d: d, state: d.store.newSession(ttl)}
	d.mu.Lock()
	if err := d.check("new session"); err != nil {
		d.mu.Unlock()
		s.state.end()
		return nil, err
	}
	d.sessions[s] = struct{}{}
	s.mu.Lock()
	s.renewal = d.store.clock.AfterFunc(ttl/3, s.renew)
	s.mu.Unlock()
	d.mu.Unlock()
	return s, nil
}

// ID returns the session's identity in its store, unique for the life of
// the store.
func (s *session) ID() string { return s.state.id }

// Done is closed once the session has ended and everything bound to it has
// been released.
func (s *session) Done() <-chan struct{} { return s.state.done }

// Close ends the session at once, releasing its locks and candidacies.
// Closing a session that has already ended does nothing; on a crashed or
// closed connection Close returns ErrClosed.
func (s *session) Close(context.Context) error {
	if err := s.d.check("session " + s.state.id + ": close"); err != nil {
		if s.d.state.Load() == connClosed && s.state.ended.Load() {
			return nil // closed with its connection
		}
		return err
	}
	s.stopRenewal()
	s.state.end()
	s.d.mu.Lock()
	delete(s.d.sessions, s)
	s.d.mu.Unlock()
	return nil
}

func (s *session) renew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || !s.state.renew() {
		return
	}
	s.renewal = s.d.store.clock.AfterFunc(s.state.ttl/3, s.renew)
}

// stopRenewal stops renewing the session; once it returns, no renewal
// happens any more.
func (s *session) stopRenewal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.renewal != nil {
		s.renewal.Stop()
	}
}

// sessionOf returns the store's record of s, which must be a session
// started by a connection to the same store and not ended.
func (h *handle) sessionOf(op string, s driver.Session) (*sessionState, error) {
	ms, ok := s.(*session)
	switch {
	case !ok || ms == nil:
		return nil, h.fail(op, driver.ErrInvalid, "session %T was not started by the memory driver", s)
	case ms.state.store != h.d.store:
		return nil, h.fail(op, driver.ErrInvalid, "session %s belongs to another memory store", ms.state.id)
	case ms.state.ended.Load():
		return nil, h.fail(op, driver.ErrClosed, "session %s has ended", ms.state.id)
	}
	return ms.state, nil
}
