package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// session implements driver.Session.
//
// A session is a key, "<prefix>:session:{<id>}", with a TTL, renewed by the
// driver every third of the TTL with PEXPIRE. Locks and elections live in
// their own hash slots, where a script cannot read the session key (a
// script touches one slot), so what is bound to the session carries the
// TTL in its own slot: a lock hold is itself a key with the session's TTL,
// and a candidacy refers to a lease key, "<election base>:s:<id>", that
// scripts treat as the session (a candidacy whose lease is gone has
// ended). The session renews its key, its holds (only while they are
// still its own) and its leases in one pipeline, while something is bound
// to them (a pin); a lease nothing is bound to any more simply expires.
//
// The session ends (Done is closed) when it is closed, when renewing finds
// the session key gone, or when no renewal has succeeded for a whole TTL:
// counted from before the last successful renewal was sent, so the client
// gives up no later than the server can expire the keys.
type session struct {
	d     *Driver
	id    string
	key   string
	ttl   time.Duration
	ttlMS string // the TTL in milliseconds, for scripts
	done  chan struct{}

	mu        sync.Mutex
	pins      map[*pin]struct{}
	ended     bool // done is closed
	closed    bool // end was called
	lastRenew time.Time
	expiry    *time.Timer
	stop      chan struct{}
	loopDone  chan struct{}
}

// pin binds something to the session: while pinned, it is renewed with
// the session, and closing the session runs release.
type pin struct {
	// lease is a lease key renewed with PEXPIRE (elections), or "".
	lease string
	// hold is a lock hold renewed only while it holds value; when it no
	// longer does, or the session ends, lost is called.
	hold, value string
	lost        func()
	release     func(ctx context.Context) error
}

var _ driver.Session = (*session)(nil)

// NewSession starts a session: it writes the session key with the TTL and
// starts renewing it. A zero TTL means the driver's SessionTTL; a TTL
// below MinSessionTTL is rounded up to it.
func (d *Driver) NewSession(ctx context.Context, opts driver.SessionOptions) (driver.Session, error) {
	const what = "session: start"
	if err := d.check(what); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.TTL < 0 {
		return nil, fmt.Errorf("redis: %s: %w: negative TTL", what, driver.ErrInvalid)
	}
	ttl := opts.TTL
	if ttl == 0 {
		ttl = d.opts.SessionTTL
	}
	ttl = max(ttl, MinSessionTTL)
	id := randomID()
	s := &session{
		d:        d,
		id:       id,
		key:      sessionKey(d.opts.KeyPrefix, id),
		ttl:      ttl,
		ttlMS:    strconv.FormatInt(ttl.Milliseconds(), 10),
		done:     make(chan struct{}),
		pins:     map[*pin]struct{}{},
		stop:     make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	sent := time.Now()
	// SET is idempotent: go-redis may retry it.
	if err := d.client.Set(ctx, s.key, "1", ttl).Err(); err != nil {
		return nil, wrapError(ctx, "session", "start", err, true)
	}
	s.mu.Lock()
	s.lastRenew = sent
	s.expiry = time.AfterFunc(time.Until(sent.Add(ttl)), s.expireIfStale)
	s.mu.Unlock()
	go s.keepAlive()
	d.mu.Lock()
	if err := d.check(what); err != nil {
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

// Done is closed when the session has ended.
func (s *session) Done() <-chan struct{} { return s.done }

// Close ends the session: it releases every lock held and withdraws every
// candidacy entered with it, and deletes its keys. A second Close returns
// an error wrapping ErrClosed.
func (s *session) Close(ctx context.Context) error {
	s.d.mu.Lock()
	delete(s.d.sessions, s)
	s.d.mu.Unlock()
	return s.end(ctx, true)
}

// end stops the session. With release it releases what is bound to it and
// deletes its keys; without (a crash) it leaves them to expire.
func (s *session) end(ctx context.Context, release bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("redis: session %s: close: %w: already closed", s.id, driver.ErrClosed)
	}
	s.closed = true
	pins := make([]*pin, 0, len(s.pins))
	for p := range s.pins {
		pins = append(pins, p)
	}
	s.expiry.Stop()
	close(s.stop)
	s.mu.Unlock()
	<-s.loopDone

	var errs []error
	if release {
		leases := map[string]struct{}{}
		for _, p := range pins {
			if p.release != nil {
				if err := p.release(ctx); err != nil {
					errs = append(errs, err)
				}
			}
			if p.lease != "" {
				leases[p.lease] = struct{}{}
			}
		}
		keys := []string{s.key}
		for l := range leases {
			keys = append(keys, l)
		}
		// One DEL per key: in a cluster the keys live in different slots.
		pipe := s.d.client.Pipeline()
		for _, k := range keys {
			pipe.Del(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			errs = append(errs, wrapError(ctx, "session "+s.id, "close", err, true))
		}
	}
	s.markEnded()
	return errors.Join(errs...)
}

// markEnded closes Done once, and tells the holds bound to the session
// that they are lost.
func (s *session) markEnded() {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.endLocked()
}

// endLocked closes Done and calls lost of every pinned hold. s.mu must be
// held; endLocked unlocks it.
func (s *session) endLocked() {
	s.ended = true
	close(s.done)
	var lost []func()
	for p := range s.pins {
		if p.lost != nil {
			lost = append(lost, p.lost)
		}
	}
	s.mu.Unlock()
	for _, f := range lost {
		f()
	}
}

// expireIfStale ends the session if no renewal succeeded for a TTL.
func (s *session) expireIfStale() {
	s.mu.Lock()
	if s.closed || s.ended {
		s.mu.Unlock()
		return
	}
	if left := time.Until(s.lastRenew.Add(s.ttl)); left > 0 {
		s.expiry.Reset(left) // renewed meanwhile
		s.mu.Unlock()
		return
	}
	s.endLocked()
}

// keepAlive renews the session every third of its TTL until it ends.
func (s *session) keepAlive() {
	defer close(s.loopDone)
	interval := s.ttl / 3
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.done:
			return
		case <-t.C:
		}
		next, alive := s.renew(interval)
		if !alive {
			s.markEnded()
			return
		}
		t.Reset(next)
	}
}

// renew renews the session key, every pinned lease and every pinned hold
// in one pipeline (every command in it is idempotent). It returns when to
// renew next, and false if the session key is gone.
func (s *session) renew(interval time.Duration) (time.Duration, bool) {
	s.mu.Lock()
	leases := make(map[string]struct{}, len(s.pins))
	var holds []*pin
	for p := range s.pins {
		if p.hold != "" {
			holds = append(holds, p)
		} else {
			leases[p.lease] = struct{}{}
		}
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), interval)
	defer cancel()
	sent := time.Now()
	pipe := s.d.client.Pipeline()
	key := pipe.PExpire(ctx, s.key, s.ttl)
	for l := range leases {
		pipe.PExpire(ctx, l, s.ttl)
	}
	renewed := make([]*goredis.Cmd, len(holds))
	for i, p := range holds {
		// EVAL, not EVALSHA: a pipeline cannot fall back on NOSCRIPT,
		// and the server caches the script anyway.
		renewed[i] = pipe.Eval(ctx, lockRenew.src, []string{p.hold}, p.value, s.ttlMS)
	}
	_, _ = pipe.Exec(ctx)
	if err := key.Err(); err != nil {
		// Try again soon; expireIfStale ends the session if this goes on
		// for a TTL.
		return max(interval/4, 10*time.Millisecond), true
	}
	if !key.Val() {
		return 0, false
	}
	for i, cmd := range renewed {
		if n, err := cmd.Int(); err == nil && n == 0 {
			// The hold is gone: released by another owner, or expired.
			s.unpin(holds[i])
			holds[i].lost()
		}
	}
	s.mu.Lock()
	if sent.After(s.lastRenew) {
		s.lastRenew = sent
	}
	s.mu.Unlock()
	return interval, true
}

// pinLease binds p to the session. It fails if the session has ended.
func (s *session) pinLease(p *pin) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.closed {
		return false
	}
	s.pins[p] = struct{}{}
	return true
}

// unpin unbinds p.
func (s *session) unpin(p *pin) {
	if p == nil {
		return
	}
	s.mu.Lock()
	delete(s.pins, p)
	s.mu.Unlock()
}

// sessionOf returns s as a session of h's driver.
func (h *handle) sessionOf(op string, s driver.Session) (*session, error) {
	ss, ok := s.(*session)
	if !ok || ss == nil || ss.d != h.d {
		return nil, h.failf(op, driver.ErrInvalid, "the session was not started by this driver")
	}
	select {
	case <-ss.done:
		return nil, h.failf(op, driver.ErrClosed, "session %s has ended", ss.id)
	default:
	}
	return ss, nil
}
