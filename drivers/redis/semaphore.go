package redis

import (
	"context"
	_ "embed"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/atomix/go-client/driver"
)

var (
	//go:embed lua/sem_lib.lua
	semLibSource string
	//go:embed lua/sem_acquire.lua
	semAcquireSource string
	//go:embed lua/sem_release.lua
	semReleaseSource string
	//go:embed lua/sem_read.lua
	semReadSource string

	// semAcquire is idempotent for one owner: a second run returns the
	// hold or the place in the queue the first one made.
	semAcquire = newScript("sem_acquire", withCounter(withQueue(semLibSource+semAcquireSource)), true)
	semRelease = newScript("sem_release", withCounter(withQueue(semLibSource+semReleaseSource)), false)
	semRead    = newReadScript("sem_read", withCounter(withQueue(semLibSource+semReadSource)))
)

// semaphore implements driver.Semaphore. It keeps no state per owner.
//
// Its keys (lua/sem_lib.lua) share the semaphore's hash slot: the holds, a
// hash of owner to version, permits and session; the waiters, a hash of
// owner to permits and session, and the queue, a sorted set of the waiting
// owners by arrival (lua/queue.lua, which the lock's queue is too); the
// version counter, which starts from the server's clock when it is
// missing, as the lock's does (lua/counter.lua); and the limit record. Holds and waiters are bound to the session's lease in the
// slot, as a lock's hold is (see session): what a client that vanished
// had ends one TTL after its session's last renewal.
//
// Grants are made by the scripts, on the server, strictly in arrival
// order: every script that removes a hold (a release, an attempt given up,
// a session's end, an attempt that finds a hold whose lease is gone) then
// grants the waiters at the head of the queue whose permits fit, with new
// versions, and publishes "g OWNER" on the semaphore's channel for each.
// A waiter wakes only when it hears its own name (then it runs its attempt
// again, which returns the hold: a forged message costs one script), after
// a lost subscription, or when the first lease ahead of it would expire
// unless renewed: then its attempt removes what that lease bound. There is
// no polling. Every removal of a hold publishes its version, which closes
// the holder's Gone (see watchGone), as for the lock, but for a holder's
// own Release of its live hold, which the holder learns of from the reply.
//
// The limit record is written with the first hold or waiter and deleted
// when the semaphore becomes idle (nothing held, nobody queued): an
// instance whose limit differs is refused only while the semaphore is in
// use.
type semaphore struct {
	*handle
	limit int
	keys  scriptKeys // see lua/sem_lib.lua
}

var _ driver.Semaphore = (*semaphore)(nil)

// OpenSemaphore opens a semaphore of limit permits. It does not contact
// the server: a limit that disagrees with the one in use is refused by the
// first Acquire or TryAcquire.
func (d *Driver) OpenSemaphore(ctx context.Context, id driver.ID, limit int) (driver.Semaphore, error) {
	if limit < 1 {
		return nil, driver.Errorf(driver.ErrInvalid, "semaphore limit %d is below 1", limit)
	}
	h, err := d.open(ctx, "semaphore", id)
	if err != nil {
		return nil, err
	}
	ks := h.ks
	return &semaphore{handle: h, limit: limit, keys: keysOf(
		ks.key("holds"), ks.key("waiters"), ks.key("queue"), ks.key("ver"),
		ks.key("arrivals"), ks.key("limit"), ks.leasePrefix(),
	)}, nil
}

// semWatch is an acquisition's listener on the semaphore's channel: it
// wakes the waiter only on a grant to its owner, and passes removals of
// holds to the holdWatch that closes Gone once it holds.
type semWatch struct {
	*holdWatch
	grant string // "g OWNER"
	// attempting is set while an attempt is in flight: removals heard then
	// are kept (the attempt may take a hold whose removal follows at
	// once), those heard while the waiter sleeps are not, however many
	// holds end meanwhile.
	attempting atomic.Bool
}

func (w *semWatch) message(payload string) {
	if strings.HasPrefix(payload, "g ") {
		if payload == w.grant {
			poke(w.wake)
		}
		return
	}
	if w.attempting.Load() || w.holding() {
		w.hear(payload)
	}
}

// holding reports whether the acquisition holds its permits.
func (w *semWatch) holding() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.version != 0
}

func (s *semaphore) Acquire(ctx context.Context, ds driver.Session, owner string, permits int) (driver.Hold, error) {
	h, _, err := s.acquire(ctx, ds, owner, permits, true)
	return h, err
}

func (s *semaphore) TryAcquire(ctx context.Context, ds driver.Session, owner string, permits int) (driver.Hold, bool, error) {
	return s.acquire(ctx, ds, owner, permits, false)
}

func (s *semaphore) acquire(ctx context.Context, ds driver.Session, owner string, permits int, wait bool) (driver.Hold, bool, error) {
	if err := s.begin(ctx); err != nil {
		return driver.Hold{}, false, err
	}
	if permits < 1 || permits > s.limit {
		return driver.Hold{}, false, driver.Errorf(driver.ErrInvalid, "%d permits of a semaphore of %d", permits, s.limit)
	}
	ss, err := s.sessionOf(ds)
	if err != nil {
		return driver.Hold{}, false, err
	}
	// What an earlier attempt of owner's left (see retryCleanup) is this
	// attempt's now.
	inherited := s.d.stopCleanup(cleanupKey(s.keys.names[2], owner))
	// Subscribed before the first attempt, no grant is missed.
	w := &semWatch{holdWatch: newHoldWatch(), grant: "g " + owner}
	if err := s.d.hub.subscribe(ctx, s.ks.channel(), w); err != nil {
		if inherited {
			_ = s.abandon(ctx, ss, owner, err)
		}
		return driver.Hold{}, false, s.fail(ctx, err, false)
	}
	held := false
	defer func() {
		if !held {
			s.d.hub.unsubscribe(s.ks.channel(), w)
		}
	}()
	lease := s.keys.names[6] + ss.id
	bound := false
	for {
		w.forget()
		w.attempting.Store(true)
		version, left, err := s.attempt(ctx, ss, owner, permits, wait)
		if version == 0 {
			w.attempting.Store(false)
		}
		if errors.Is(err, driver.ErrConflict) {
			if inherited {
				_ = s.abandon(ctx, ss, owner, err)
			}
			return driver.Hold{}, false, err // nothing was written
		}
		if err != nil {
			return driver.Hold{}, false, s.abandon(ctx, ss, owner, err)
		}
		if version > 0 {
			if !ss.bind(lease, s.drop) {
				return driver.Hold{}, false, s.abandon(ctx, ss, owner, errSessionEnded)
			}
			held = true
			return s.watchGone(w, w.holdWatch, ss, version, func(ctx context.Context) (bool, error) {
				return s.holds(ctx, owner, version)
			}), true, nil
		}
		if !wait {
			if inherited {
				// The place an earlier attempt left, taken over, is not
				// this try's to keep: a try leaves nothing behind.
				_ = s.abandon(ctx, ss, owner, errTryNotAcquired)
			}
			return driver.Hold{}, false, nil
		}
		// Queued: the session renews the lease the waiter is bound to.
		if !bound {
			if !ss.bind(lease, s.drop) {
				return driver.Hold{}, false, s.abandon(ctx, ss, owner, errSessionEnded)
			}
			bound = true
		}
		t := time.NewTimer(left)
		var stop error
		select {
		case <-w.wake:
		case <-t.C:
		case <-ctx.Done():
			stop = ctx.Err()
		case <-s.closedCh:
			stop = errInstanceClosed
		case <-ss.Done():
			stop = errSessionEnded
		}
		t.Stop()
		if stop != nil {
			return driver.Hold{}, false, s.abandon(ctx, ss, owner, stop)
		}
	}
}

// attempt runs the acquire script once. It returns the version of the hold
// taken, or 0 and how long to wait before the first lease ahead of the
// owner would expire.
func (s *semaphore) attempt(ctx context.Context, ss *session, owner string, permits int, wait bool) (uint64, time.Duration, error) {
	mode := "t"
	if wait {
		mode = "a"
	}
	r, err := semAcquire.run(ctx, s.client(), s.keys, s.ks.channelArg(), ss.idArg, owner, permits, ss.ttlArg, s.limit, mode)
	if err != nil {
		return 0, 0, err
	}
	a, err := replyArray(r, 2)
	if err != nil {
		return 0, 0, err
	}
	version, err1 := replyInt(a[0])
	ms, err2 := replyInt(a[1])
	if err1 != nil || err2 != nil {
		return 0, 0, badReply("malformed semaphore attempt %v", a)
	}
	if version < 0 {
		return 0, 0, driver.Errorf(driver.ErrConflict, "the semaphore has a limit of %d, not %d", ms, s.limit)
	}
	return uint64(version), recheckAfter(ss, ms), nil
}

// abandon handles an attempt given up or failed, whose outcome may be
// unknown: it removes the owner's place in the queue, or the hold it was
// granted meanwhile, so that nothing is left behind, and reports err
// (ctx.Err() if ctx ended). If that cannot be done either, the removal is
// retried in the background until it succeeds, ss ends or the driver is
// closed, or until owner acquires again, which first stops it and then
// takes over the place in the queue, or the hold, that was left (see
// retryCleanup).
func (s *semaphore) abandon(ctx context.Context, ss *session, owner string, err error) error {
	return s.leave(ctx, ss, cleanupKey(s.keys.names[2], owner), err, func(ctx context.Context) error {
		_, err := s.release(ctx, "o", owner)
		return err
	})
}

// drop removes what session id holds or waits for in the semaphore, and
// its lease there: what the session's Close runs.
func (s *semaphore) drop(ctx context.Context, id string) error {
	_, err := s.release(ctx, "s", id)
	return err
}

func (s *semaphore) Release(ctx context.Context, owner string, version uint64) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	w := s.holdWatchOf(version)
	w.startRelease()
	ok, err := s.release(ctx, "h", owner, strconv.FormatUint(version, 10))
	if err != nil {
		w.failRelease()
		return false, s.fail(ctx, err, true)
	}
	w.finishRelease(ok)
	return ok, nil
}

// release runs the release script in mode m (see lua/sem_release.lua).
func (s *semaphore) release(ctx context.Context, m any, args ...any) (bool, error) {
	r, err := semRelease.run(ctx, s.client(), s.keys, append([]any{s.ks.channelArg(), s.limit, m}, args...)...)
	if err != nil {
		return false, err
	}
	n, err := replyInt(r)
	return n == 1, err
}

// holds reports whether owner has a live hold of version.
func (s *semaphore) holds(ctx context.Context, owner string, version uint64) (bool, error) {
	r, err := semRead.run(ctx, s.client(), s.keys, "h", owner, strconv.FormatUint(version, 10))
	if err != nil {
		return false, err
	}
	n, err := replyInt(r)
	return n == 1, err
}

// Available reads the holds and their leases in one script.
func (s *semaphore) Available(ctx context.Context) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	r, err := semRead.run(ctx, s.client(), s.keys, "a", s.limit)
	if err == nil {
		var n int64
		if n, err = replyInt(r); err == nil {
			return int(n), nil
		}
	}
	return 0, s.fail(ctx, err, false)
}
