package memory

import (
	"cmp"
	"context"
	"errors"
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

// sessionState is the store's record of a session and of what is bound to
// it.
//
// A session lives while the connection that started it is open: an
// in-process connection renews it continuously, since it cannot miss a
// renewal. When the connection crashes the renewals stop, and the store
// ends the session one TTL later (see abandon), on the store's clock.
type sessionState struct {
	store *Store
	id    string
	ttl   time.Duration
	done  chan struct{} // closed once everything bound has been released
	ended atomic.Bool
	// cause says why the session ended (see session.Cause); it is set
	// before ended, so before anything bound is released.
	cause atomic.Pointer[error]

	mu       sync.Mutex
	expiry   Timer              // set once abandoned
	bindings map[binding]uint64 // to the order of binding
	bound    uint64             // bindings made so far
}

func (s *Store) newSession(ttl time.Duration) *sessionState {
	return &sessionState{
		store:    s,
		id:       "memory-session-" + strconv.FormatUint(s.lastSession.Add(1), 10),
		ttl:      ttl,
		done:     make(chan struct{}),
		bindings: map[binding]uint64{},
	}
}

// abandon stops renewing the session: the store ends it one TTL from now.
func (ss *sessionState) abandon() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended.Load() || ss.expiry != nil {
		return
	}
	ss.expiry = ss.store.clock.AfterFunc(ss.ttl, func() { ss.end(ErrSessionExpired) })
}

// end ends the session now, for cause: nothing can be bound to it any
// more, everything bound to it is released in the order it was bound, and
// then Done is closed. It reports whether this call ended it.
func (ss *sessionState) end(cause error) bool {
	ss.mu.Lock()
	if ss.ended.Load() {
		ss.mu.Unlock()
		return false
	}
	ss.cause.Store(&cause)
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

// session is a connection's handle on a session; it implements
// driver.Session.
type session struct {
	d     *Driver
	state *sessionState
}

var (
	_ driver.Session      = (*session)(nil)
	_ driver.SessionCause = (*session)(nil)
)

// NewSession starts a session that lives while the connection is open and
// expires one TTL after the connection crashes. A zero TTL means the
// store's default ([DefaultSessionTTL] unless [WithDefaultSessionTTL] says
// otherwise); a positive TTL below [MinSessionTTL] is rounded up to it; a
// negative one is ErrInvalid.
func (d *Driver) NewSession(ctx context.Context, opts driver.SessionOptions) (driver.Session, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ttl := opts.TTL
	switch {
	case ttl < 0:
		return nil, driver.Errorf(driver.ErrInvalid, "negative session TTL %v", ttl)
	case ttl == 0:
		ttl = d.store.sessionTTL
	case ttl < MinSessionTTL:
		ttl = MinSessionTTL
	}
	s := &session{d: d, state: d.store.newSession(ttl)}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		s.state.end(ErrSessionClosed)
		return nil, err
	}
	d.sessions[s] = struct{}{}
	return s, nil
}

// ID returns the session's identity in its store, unique for the life of
// the store.
func (s *session) ID() string { return s.state.id }

// Done is closed once the session has ended and everything bound to it has
// been released.
func (s *session) Done() <-chan struct{} { return s.state.done }

// The causes of a session's end, as Cause reports them.
var (
	// ErrSessionClosed: the session was closed, by its owner or with its
	// connection.
	ErrSessionClosed = errors.New("memory: the session was closed")
	// ErrSessionExpired: its connection crashed and the TTL passed with
	// no renewal.
	ErrSessionExpired = errors.New("memory: the session expired: its connection stopped renewing it")
)

// Cause says why the session ended (ErrSessionClosed or
// ErrSessionExpired); nil while it lives. It is set as the session ends,
// before what was bound to it is released, so a hold whose Gone closed
// because its session ended finds the cause set even though Done may not
// have closed yet.
func (s *session) Cause() error {
	if c := s.state.cause.Load(); c != nil {
		return *c
	}
	return nil
}

// Close ends the session at once, releasing its locks and candidacies.
// Closing a session that has already ended does nothing and returns nil;
// on a crashed connection, Close of a live session returns ErrClosed and
// leaves it to expire.
func (s *session) Close(context.Context) error {
	if s.state.ended.Load() {
		return nil
	}
	if err := s.d.check(); err != nil {
		return err
	}
	s.state.end(ErrSessionClosed)
	s.d.mu.Lock()
	delete(s.d.sessions, s)
	s.d.mu.Unlock()
	return nil
}

// sessionOf returns the store's record of s, which must be a session
// started by a connection to the same store and not ended.
func (h *handle) sessionOf(s driver.Session) (*sessionState, error) {
	ms, ok := s.(*session)
	switch {
	case !ok || ms == nil:
		return nil, driver.Errorf(driver.ErrInvalid, "the session (%T) was not started by this driver", s)
	case ms.state.store != h.d.store:
		return nil, driver.Errorf(driver.ErrInvalid, "session %s belongs to another store", ms.state.id)
	case ms.state.ended.Load():
		return nil, errSessionEnded(ms.state)
	}
	return ms.state, nil
}

// errSessionEnded is the error of binding to, or waiting with, a session
// that has ended.
func errSessionEnded(ss *sessionState) error {
	return driver.Errorf(driver.ErrClosed, "session %s has ended", ss.id)
}
