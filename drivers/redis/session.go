package redis

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/lease"
)

// session implements driver.Session.
//
// A session is a key, "<prefix>:session:{<id>}", with a TTL, kept alive by
// a lease.Keeper. Locks and elections live in their own hash slots, where
// a script cannot read the session key (a script touches one slot), so a
// hold or a candidacy refers to a lease key of its session in the
// primitive's slot, "<primitive base>:s:<id>", that scripts treat as the
// session: a hold or candidacy whose lease is gone has ended. A script that
// binds something to the session creates the lease (if absent) with the
// session's TTL; the session then renews every lease it was bound to, with
// its own key, in one pipeline. Close deletes the leases and runs, per
// primitive, the script that removes what the session held there, so that
// the others hear of it at once.
type session struct {
	d     *Driver
	id    string
	key   string
	ttl   time.Duration
	ttlMS string // the TTL in milliseconds, for scripts
	// idArg and ttlArg are id and ttlMS as script arguments, converted
	// once: converting a string to an interface allocates.
	idArg, ttlArg any

	keeper *lease.Keeper

	mu     sync.Mutex
	leases map[string]dropFunc // lease key -> what removes the session's traces there
	closed bool
	// holds are the watches of the holds taken with the session, which
	// its end ends (see track); holdsEnded is set once it did.
	holds      map[*holdWatch]struct{}
	holdsEnded bool

	// watchers counts the goroutine that ends the holds when the session
	// ends (see track).
	watchers sync.WaitGroup
}

// dropFunc removes what session id holds in one primitive, and its lease
// there.
type dropFunc func(ctx context.Context, id string) error

var _ driver.Session = (*session)(nil)

// NewSession starts a session: it writes the session key with the TTL and
// starts renewing it. A zero TTL means DefaultSessionTTL; a TTL below
// MinSessionTTL is rounded up to it.
func (d *Driver) NewSession(ctx context.Context, opts driver.SessionOptions) (driver.Session, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ttl := opts.TTL
	if ttl == 0 {
		ttl = DefaultSessionTTL
	}
	ttl = max(ttl, MinSessionTTL)
	id := randomID()
	s := &session{
		d:      d,
		id:     id,
		key:    sessionKey(d.opts.KeyPrefix, id),
		ttl:    ttl,
		ttlMS:  strconv.FormatInt(ttl.Milliseconds(), 10),
		leases: map[string]dropFunc{},
	}
	s.idArg, s.ttlArg = s.id, s.ttlMS
	sent := time.Now()
	// SET is idempotent: go-redis may retry it.
	if err := d.client.Set(ctx, s.key, "1", ttl).Err(); err != nil {
		return nil, wrapError(ctx, err, true)
	}
	s.keeper = lease.Start(sent, ttl, s.renew, lease.OnRenew(func(err error) { d.Observer().SessionRenewed(id, err) }))
	d.mu.Lock()
	if err := d.check(); err != nil {
		d.mu.Unlock()
		_ = s.end(ctx, true)
		return nil, err
	}
	d.sessions[s] = struct{}{}
	d.mu.Unlock()
	return s, nil
}

// ID returns the session's random 128-bit ID, in hex.
func (s *session) ID() string { return s.id }

// Cause says why the session ended (see lease.Keeper.Cause); nil while it
// lives.
func (s *session) Cause() error { return s.keeper.Cause() }

// Done is closed when the session has ended.
func (s *session) Done() <-chan struct{} { return s.keeper.Done() }

// Close ends the session: it releases every lock held and withdraws every
// candidacy entered with it, and deletes its keys. A second Close returns
// nil.
func (s *session) Close(ctx context.Context) error {
	s.d.mu.Lock()
	delete(s.d.sessions, s)
	s.d.mu.Unlock()
	return s.end(ctx, true)
}

// end stops the session. With release it removes what is bound to it and
// deletes its keys; without (a crash) it leaves them to expire.
func (s *session) end(ctx context.Context, release bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	leases := s.leases
	s.leases = nil
	s.mu.Unlock()
	s.keeper.Stop()
	s.watchers.Wait()
	if !release {
		return nil
	}
	var errs []error
	for _, drop := range leases {
		if err := drop(ctx, s.id); err != nil {
			errs = append(errs, wrapError(ctx, err, true))
		}
	}
	if err := s.d.client.Del(ctx, s.key).Err(); err != nil {
		errs = append(errs, wrapError(ctx, err, true))
	}
	return errors.Join(errs...)
}

// bind makes the session renew lease, the session's lease key in one
// primitive's slot, and run drop there when it is closed. It reports false
// if the session has ended.
func (s *session) bind(lease string, drop dropFunc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || isDone(s.keeper.Done()) {
		return false
	}
	s.leases[lease] = drop
	return true
}

// track makes the session's end finish w, the watch of a hold taken with
// it, and reports false if the session has ended (w is not tracked then).
// One goroutine per session, started with its first hold, waits for the
// end; the session's end returns once it has finished every hold.
func (s *session) track(w *holdWatch) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.holdsEnded || isDone(s.keeper.Done()) {
		return false
	}
	if s.holds == nil {
		s.holds = map[*holdWatch]struct{}{}
		s.watchers.Add(1)
		go s.endHolds()
	}
	s.holds[w] = struct{}{}
	return true
}

// untrack forgets w, a hold's watch that ended.
func (s *session) untrack(w *holdWatch) {
	s.mu.Lock()
	delete(s.holds, w)
	s.mu.Unlock()
}

// endHolds finishes the watch of every hold of the session once it ends.
func (s *session) endHolds() {
	defer s.watchers.Done()
	<-s.keeper.Done()
	s.mu.Lock()
	s.holdsEnded = true
	ws := make([]*holdWatch, 0, len(s.holds))
	for w := range s.holds {
		ws = append(ws, w)
	}
	s.mu.Unlock()
	for _, w := range ws {
		w.finish()
	}
}

// renew renews the session key and every lease in one pipeline (PEXPIRE is
// idempotent). A key that is gone means the session is: lease.ErrGone.
func (s *session) renew(ctx context.Context) (time.Duration, error) {
	s.mu.Lock()
	keys := make([]string, 0, 1+len(s.leases))
	keys = append(keys, s.key)
	for l := range s.leases {
		keys = append(keys, l)
	}
	s.mu.Unlock()
	pipe := s.d.client.Pipeline()
	cmds := make([]*goredis.BoolCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.PExpire(ctx, k, s.ttl)
	}
	_, _ = pipe.Exec(ctx)
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return 0, err
		}
	}
	for _, c := range cmds {
		if !c.Val() {
			return 0, lease.ErrGone
		}
	}
	return s.ttl, nil
}

// sessionOf returns s as a live session of h's driver.
func (h *handle) sessionOf(s driver.Session) (*session, error) {
	ss, ok := s.(*session)
	if !ok || ss == nil || ss.d != h.d {
		return nil, driver.Errorf(driver.ErrInvalid, "the session was not started by this driver")
	}
	if isDone(ss.Done()) {
		return nil, errSessionEnded
	}
	return ss, nil
}

var errSessionEnded = driver.Errorf(driver.ErrClosed, "the session has ended")

func isDone(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
