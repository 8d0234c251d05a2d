package redis

import (
	"context"
	_ "embed"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

var (
	//go:embed lua/lock_acquire.lua
	lockAcquireSource string
	//go:embed lua/lock_release.lua
	lockReleaseSource string
	//go:embed lua/lock_renew.lua
	lockRenewSource string

	// lockAcquire is idempotent for one owner: a second run returns the
	// hold the first one made.
	lockAcquire = newScript("lock_acquire", lockAcquireSource, true)
	lockRelease = newScript("lock_release", lockReleaseSource, false)
	lockRenew   = newScript("lock_renew", lockRenewSource, true)
)

// lock implements driver.Lock.
//
// The hold is one key: the version (8 bytes), the holder's session ID and
// its owner ID (random per lock instance). It is written with the session's
// TTL, and the session's keep-alive renews it (only while it still holds
// that value) together with the session key: the hold of a client that
// vanished expires by itself one TTL after its last renewal. The version
// comes from INCR of a counter that is never deleted, in the script that
// takes the hold: a fencing token.
//
// Waiting uses no polling loop: an instance subscribes to the lock's
// channel (once, before its first attempt), on which every release is
// published; a waiter tries again when it hears one, or when the hold
// would expire (the attempt returns its TTL), whichever comes first.
// Waiters are not queued on the server, so a waiter whose context ends
// leaves nothing behind; there is no fairness among waiters.
type lock struct {
	*handle
	keys  []string // the hold, the version counter
	owner string

	mu         sync.Mutex
	acquiring  bool
	hold       *hold
	subscribed bool
	wake       chan struct{} // a release was heard, or the channel was resubscribed
}

// hold is one acquisition by a lock instance.
type hold struct {
	value   string // as stored
	version uint64
	session *session
	pin     *pin
	lost    chan struct{}
	once    sync.Once
}

// end closes lost and unbinds the hold from its session, once.
func (h *hold) end() {
	h.once.Do(func() {
		close(h.lost)
		h.session.unpin(h.pin)
	})
}

func newLock(h *handle) *lock {
	l := &lock{
		handle: h,
		keys:   []string{h.ks.key("hold"), h.ks.key("ver")},
		owner:  randomID(),
		wake:   make(chan struct{}, 1),
	}
	h.onShutdown = l.shutdown
	return l
}

// message hears a release on the lock's channel: the payload is the
// released version.
func (l *lock) message(payload string) {
	if len(payload) == 8 {
		v := beUint64(payload)
		l.mu.Lock()
		h := l.hold
		if h != nil && h.version == v {
			l.hold = nil
		} else {
			h = nil
		}
		l.mu.Unlock()
		if h != nil {
			h.end() // released by another owner
		}
	}
	l.poke()
}

// resubscribed: releases may have been missed. Waiters try again; a holder
// checks that it still holds the lock.
func (l *lock) resubscribed() {
	l.poke()
	l.mu.Lock()
	h := l.hold
	l.mu.Unlock()
	if h != nil && l.startWatch() {
		go func() {
			defer l.watches.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if cur, err := l.client().Get(ctx, l.keys[0]).Result(); err == goredis.Nil || (err == nil && cur != h.value) {
				l.loseHold(h)
			}
		}()
	}
}

func (l *lock) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// loseHold ends h if it is the current hold.
func (l *lock) loseHold(h *hold) {
	l.mu.Lock()
	if l.hold == h {
		l.hold = nil
	}
	l.mu.Unlock()
	h.end()
}

// subscribe subscribes the instance to the lock's channel, once.
func (l *lock) subscribe(ctx context.Context) error {
	l.mu.Lock()
	done := l.subscribed
	l.mu.Unlock()
	if done {
		return nil
	}
	if err := l.d.hub.subscribe(ctx, l.ks.channel(), l); err != nil {
		return err
	}
	l.mu.Lock()
	if l.closed.Load() {
		// shutdown has run, or will find subscribed false.
		l.mu.Unlock()
		l.d.hub.unsubscribe(l.ks.channel(), l)
		return l.closedError("subscribe")
	}
	l.subscribed = true
	l.mu.Unlock()
	return nil
}

func (l *lock) Acquire(ctx context.Context, s driver.Session) (uint64, <-chan struct{}, error) {
	v, lost, _, err := l.acquire(ctx, "acquire", s, true)
	return v, lost, err
}

func (l *lock) TryAcquire(ctx context.Context, s driver.Session) (uint64, <-chan struct{}, bool, error) {
	return l.acquire(ctx, "try acquire", s, false)
}

func (l *lock) acquire(ctx context.Context, op string, s driver.Session, wait bool) (uint64, <-chan struct{}, bool, error) {
	if err := l.begin(ctx, op); err != nil {
		return 0, nil, false, err
	}
	ss, err := l.sessionOf(op, s)
	if err != nil {
		return 0, nil, false, err
	}
	l.mu.Lock()
	switch {
	case l.hold != nil:
		l.mu.Unlock()
		return 0, nil, false, l.failf(op, driver.ErrConflict, "this owner already holds the lock")
	case l.acquiring:
		l.mu.Unlock()
		return 0, nil, false, l.failf(op, driver.ErrConflict, "this owner is already acquiring the lock")
	}
	l.acquiring = true
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.acquiring = false
		l.mu.Unlock()
	}()

	// Subscribed before the first attempt, no release is missed.
	if err := l.subscribe(ctx); err != nil {
		return 0, nil, false, l.fail(ctx, op, err, false)
	}
	for {
		select {
		case <-l.wake: // an attempt follows anyway
		default:
		}
		r, err := lockAcquire.run(ctx, l.client(), l.keys, ss.id, l.owner, ss.ttlMS)
		if err != nil {
			return 0, nil, false, l.abandon(ctx, op, err)
		}
		a, err := replyArray(r, 2)
		if err != nil {
			return 0, nil, false, l.abandon(ctx, op, err)
		}
		if status, _ := replyInt(a[0]); status == 1 {
			value, _ := replyString(a[1])
			if len(value) < 8 {
				return 0, nil, false, l.abandon(ctx, op, badReply("hold of %d bytes", len(value)))
			}
			h, err := l.take(op, ss, value)
			if err != nil {
				return 0, nil, false, err
			}
			return h.version, h.lost, true, nil
		}
		if !wait {
			return 0, nil, false, nil
		}
		// Try again when a release is heard, or when the hold would
		// expire.
		delay := ss.ttl
		if ms, err := replyInt(a[1]); err == nil && ms >= 0 {
			delay = time.Duration(ms)*time.Millisecond + 2*time.Millisecond
		}
		t := time.NewTimer(delay)
		select {
		case <-l.wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return 0, nil, false, ctx.Err()
		case <-l.closedCh:
			t.Stop()
			return 0, nil, false, l.closedError(op)
		case <-ss.Done():
			t.Stop()
			return 0, nil, false, l.failf(op, driver.ErrClosed, "session %s has ended", ss.id)
		}
		t.Stop()
	}
}

// take records the hold just acquired and binds it to its session, whose
// keep-alive renews it from now on.
func (l *lock) take(op string, ss *session, value string) (*hold, error) {
	h := &hold{value: value, version: beUint64(value), session: ss, lost: make(chan struct{})}
	h.pin = &pin{
		hold:  l.keys[0],
		value: value,
		release: func(ctx context.Context) error {
			_, err := lockRelease.run(ctx, l.client(), l.keys[:1], l.ks.channel(), "h", value)
			return err
		},
		lost: func() { l.loseHold(h) },
	}
	l.mu.Lock()
	closed := l.closed.Load()
	if !closed {
		l.hold = h
	}
	l.mu.Unlock()
	var err error
	switch {
	case closed: // shutdown did not see this hold
		err = l.closedError(op)
	case !ss.pinLease(h.pin):
		err = l.failf(op, driver.ErrClosed, "session %s has ended", ss.id)
		l.mu.Lock()
		l.hold = nil
		l.mu.Unlock()
	default:
		return h, nil
	}
	h.end()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = h.pin.release(ctx)
	return nil, err
}

// abandon handles a failed attempt, whose outcome may be unknown: it
// releases a hold the attempt may have taken, so that nothing is left
// behind, and reports err. If that cannot be done either, the attempt is
// ambiguous; such a hold is not renewed and expires after one TTL.
func (l *lock) abandon(ctx context.Context, op string, err error) error {
	if l.closed.Load() || l.d.state.Load() != stateOpen {
		return l.closedError(op)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, rerr := lockRelease.run(cctx, l.client(), l.keys[:1], l.ks.channel(), "o", l.owner); rerr != nil {
		return l.fail(ctx, op, err, true)
	}
	return l.fail(ctx, op, err, false)
}

func (l *lock) Release(ctx context.Context) (bool, error) {
	const op = "release"
	if err := l.begin(ctx, op); err != nil {
		return false, err
	}
	l.mu.Lock()
	h := l.hold
	l.mu.Unlock()
	if h == nil {
		return false, nil
	}
	r, err := lockRelease.run(ctx, l.client(), l.keys[:1], l.ks.channel(), "h", h.value)
	if err != nil {
		return false, l.fail(ctx, op, err, true)
	}
	l.loseHold(h)
	n, err := replyInt(r)
	if err != nil {
		return false, l.fail(ctx, op, err, true)
	}
	return n == 1, nil
}

func (l *lock) ReleaseVersion(ctx context.Context, version uint64) (bool, error) {
	op := "release version " + strconv.FormatUint(version, 10)
	if err := l.begin(ctx, op); err != nil {
		return false, err
	}
	if version == 0 {
		return false, nil
	}
	r, err := lockRelease.run(ctx, l.client(), l.keys[:1], l.ks.channel(), "v", versionBytes(version))
	if err != nil {
		return false, l.fail(ctx, op, err, true)
	}
	n, err := replyInt(r)
	if err != nil {
		return false, l.fail(ctx, op, err, true)
	}
	if n == 1 {
		l.mu.Lock()
		h := l.hold
		l.mu.Unlock()
		if h != nil && h.version == version {
			l.loseHold(h)
		}
	}
	return n == 1, nil
}

// Holder is a plain GET of the hold: a hold that expired is gone.
func (l *lock) Holder(ctx context.Context) (uint64, bool, error) {
	const op = "holder"
	if err := l.begin(ctx, op); err != nil {
		return 0, false, err
	}
	cur, err := l.client().Get(ctx, l.keys[0]).Result()
	if err == goredis.Nil {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, l.fail(ctx, op, err, false)
	}
	if len(cur) < 8 {
		return 0, false, l.fail(ctx, op, badReply("hold of %d bytes", len(cur)), false)
	}
	return beUint64(cur), true, nil
}

// shutdown gives up the hold, if any (not after a crash), and leaves the
// channel. An Acquire in progress returns ErrClosed: it waits on closedCh.
func (l *lock) shutdown(ctx context.Context, release bool) {
	l.mu.Lock()
	h := l.hold
	subscribed := l.subscribed
	l.subscribed = false
	l.mu.Unlock()
	if h != nil {
		if release {
			_ = h.pin.release(ctx)
		}
		l.loseHold(h)
	}
	if subscribed {
		l.d.hub.unsubscribe(l.ks.channel(), l)
	}
}
