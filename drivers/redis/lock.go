package redis

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/atomix/go-client/driver"
)

var (
	//go:embed lua/lock_acquire.lua
	lockAcquireSource string
	//go:embed lua/lock_release.lua
	lockReleaseSource string
	//go:embed lua/lock_holder.lua
	lockHolderSource string

	// lockAcquire is idempotent for one owner: a second run returns the
	// hold the first one made, or leaves the owner where it is queued.
	lockAcquire = newScript("lock_acquire", withCounter(withQueue(lockAcquireSource)), true)
	lockRelease = newScript("lock_release", withQueue(lockReleaseSource), false)
	lockHolder  = newReadScript("lock_holder", lockHolderSource)
)

// lock implements driver.Lock. It keeps no state per owner.
//
// The hold is a hash with its version, its session ID and its owner. It is
// live while the lease of its session in the lock's slot exists (see
// session): the hold of a client that vanished ends by itself one TTL
// after its session's last renewal. The version comes from INCR of a
// counter that is never deleted, in the script that takes the hold, and
// that starts from the server's clock when it is missing (lua/counter.lua),
// so it stays increasing across a restart that lost the data: a fencing
// token, within the limits the package documentation states.
//
// Waiters are queued in arrival order (lua/queue.lua, the queue a
// semaphore's waiters use too): an Acquire that cannot take the lock joins
// the queue, and the lock goes to the waiter at its head, never to one
// that comes later, so waiters get it first come, first served. Every
// removal of a hold publishes its version on the lock's channel, followed
// by the member at the head of the queue, but for a holder's own Release of
// its live hold, which publishes only that member (nothing when nobody
// waits: the holder learns from the reply): only that waiter tries again,
// and the others keep waiting without a request. Waiting uses no polling
// loop: an attempt subscribes to the channel first, and a waiter tries
// again when it is named, when its subscription was made again (messages
// may have been lost), or when the lease of the holder (or of the waiter
// whose turn it is) would expire, or after one renewal interval of its
// own session, whichever comes first (see recheckAfter); so a waiter
// whose client vanished costs the others one TTL at most, and a lost
// message one renewal interval. A waiter whose
// context ends leaves the queue, waking the next one if the lock is free
// (retried in the background if the server cannot be reached then: see
// retryCleanup).
// The same subscription then closes the hold's Gone (see holdWatch); a
// Release through the instance closes it at once, or, if its reply is
// lost, has the hold read (see holdWatch.failRelease).
type lock struct {
	*handle
	keys scriptKeys // the hold, the version counter, the lease prefix, the queue, its sequence
	// releaseKeys are the keys of the release and holder scripts: the
	// hold, the lease prefix and the queue (which the holder script does
	// not read).
	releaseKeys scriptKeys
}

func newLock(h *handle) *lock {
	keys := keysOf(h.ks.key("hold"), h.ks.key("ver"), h.ks.leasePrefix(), h.ks.key("queue"), h.ks.key("qseq"))
	return &lock{handle: h, keys: keys, releaseKeys: keys.pick(0, 2, 3)}
}

// lockWatch is a lock acquisition's listener on the lock's channel, where
// messages are "<version> <member>": the removal of the hold of version
// (0: none was removed) and the queue member whose turn it is. It passes
// removals to its holdWatch and wakes the waiter only when it is named.
type lockWatch struct {
	*holdWatch
	me string // the acquisition's queue member (see queueMember)
}

func (w *lockWatch) message(payload string) {
	version, next, _ := strings.Cut(payload, " ")
	if w.hear(version) && next == w.me {
		poke(w.wake)
	}
}

// queueMember is how a waiter appears in the lock's queue: session IDs
// are hexadecimal, so the first colon ends the session's part.
func queueMember(sessionID, owner string) string { return sessionID + ":" + owner }

func (l *lock) Acquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, error) {
	h, _, err := l.acquire(ctx, s, owner, true)
	return h, err
}

func (l *lock) TryAcquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, bool, error) {
	return l.acquire(ctx, s, owner, false)
}

func (l *lock) acquire(ctx context.Context, s driver.Session, owner string, wait bool) (driver.Hold, bool, error) {
	if err := l.begin(ctx); err != nil {
		return driver.Hold{}, false, err
	}
	ss, err := l.sessionOf(s)
	if err != nil {
		return driver.Hold{}, false, err
	}
	// What an earlier attempt of owner's left (see retryCleanup) is this
	// attempt's now.
	inherited := l.d.stopCleanup(cleanupKey(l.keys.names[3], owner))
	// Subscribed before the first attempt, no removal is missed.
	w := &lockWatch{holdWatch: newHoldWatch(), me: queueMember(ss.id, owner)}
	if err := l.d.hub.subscribe(ctx, l.ks.channel(), w); err != nil {
		if inherited {
			_ = l.abandon(ctx, ss, owner, err)
		}
		return driver.Hold{}, false, l.fail(ctx, err, false)
	}
	held, queued := false, false
	defer func() {
		if !held {
			l.d.hub.unsubscribe(l.ks.channel(), w)
		}
	}()
	for {
		w.forget()
		version, left, err := l.attempt(ctx, ss, owner, wait)
		if err != nil {
			return driver.Hold{}, false, l.abandon(ctx, ss, owner, err)
		}
		if version > 0 {
			if !ss.bind(l.keys.names[2]+ss.id, l.drop) {
				return driver.Hold{}, false, l.abandon(ctx, ss, owner, errSessionEnded)
			}
			held = true
			return l.watchHold(w, ss, version), true, nil
		}
		if !wait {
			if inherited {
				// The place an earlier attempt left, taken over, is not
				// this try's to keep: a try leaves nothing behind.
				_ = l.abandon(ctx, ss, owner, errTryNotAcquired)
			}
			return driver.Hold{}, false, nil
		}
		// Queued: the session renews the lease the waiter is bound to.
		if !queued {
			if !ss.bind(l.keys.names[2]+ss.id, l.drop) {
				return driver.Hold{}, false, l.abandon(ctx, ss, owner, errSessionEnded)
			}
			queued = true
		}
		t := time.NewTimer(left)
		var stop error
		select {
		case <-w.wake:
		case <-t.C:
		case <-ctx.Done():
			stop = ctx.Err()
		case <-l.closedCh:
			stop = errInstanceClosed
		case <-ss.Done():
			stop = errSessionEnded
		}
		t.Stop()
		if stop != nil {
			// Leaves the queue, handing the turn on if it was ours.
			return driver.Hold{}, false, l.abandon(ctx, ss, owner, stop)
		}
	}
}

// attempt runs the acquire script once; with wait, an owner that cannot
// take the lock joins its queue. It returns the version of the hold taken,
// or 0 and how long to wait before the lease of the holder (or of the
// waiter whose turn it is) would expire.
func (l *lock) attempt(ctx context.Context, ss *session, owner string, wait bool) (uint64, time.Duration, error) {
	var r any
	var err error
	var join any = "0" // typed any: a constant converts without allocating
	if wait {
		join = "1"
	}
	replicas, acked := l.d.opts.WaitReplicas, int64(0)
	if replicas > 0 {
		r, acked, err = lockAcquire.runReplicated(ctx, l.client(), replicas, l.d.opts.WaitTimeout, l.keys, l.ks.channelArg(), ss.idArg, owner, ss.ttlArg, join)
	} else {
		r, err = lockAcquire.run(ctx, l.client(), l.keys, l.ks.channelArg(), ss.idArg, owner, ss.ttlArg, join)
	}
	if err != nil {
		return 0, 0, err
	}
	a, err := replyArray(r, 2)
	if err != nil {
		return 0, 0, err
	}
	version, err1 := replyUint(a[0])
	ms, err2 := replyInt(a[1])
	if err1 != nil || err2 != nil {
		return 0, 0, badReply("malformed lock attempt %v", a)
	}
	if version > 0 && acked < int64(replicas) {
		// Not classified: abandon releases the hold and reports
		// ErrUnavailable, or ErrAmbiguous if the release fails.
		return 0, 0, fmt.Errorf("%d of the %d replicas of wait-replicas acknowledged the hold within %v", acked, replicas, l.d.opts.WaitTimeout)
	}
	return version, recheckAfter(ss, ms), nil
}

// abandon handles an attempt given up or failed, whose outcome may be
// unknown: it releases a hold the attempt may have taken and removes the
// owner's place in the queue (waking the next waiter if the lock is free),
// so that nothing is left behind, and reports err (ctx.Err() if ctx
// ended). If that cannot be done either, the attempt is ambiguous, and the
// removal is retried in the background until it succeeds, the session ends
// or the driver is closed, or until owner acquires again (see
// retryCleanup).
func (l *lock) abandon(ctx context.Context, ss *session, owner string, err error) error {
	return l.leave(ctx, ss, cleanupKey(l.keys.names[3], owner), err, func(ctx context.Context) error {
		_, err := lockRelease.run(ctx, l.client(), l.releaseKeys, l.ks.channelArg(), "o", owner, ss.idArg)
		return err
	})
}

// drop removes what session id holds in the lock, and its lease there:
// what the session's Close runs.
func (l *lock) drop(ctx context.Context, id string) error {
	_, err := lockRelease.run(ctx, l.client(), l.releaseKeys, l.ks.channelArg(), "s", id)
	return err
}

func (l *lock) Release(ctx context.Context, owner string, version uint64) (bool, error) {
	return l.release(ctx, version, l.ks.channelArg(), "h", owner, strconv.FormatUint(version, 10))
}

func (l *lock) ReleaseVersion(ctx context.Context, version uint64) (bool, error) {
	if version == 0 {
		return false, nil
	}
	return l.release(ctx, version, l.ks.channelArg(), "v", strconv.FormatUint(version, 10))
}

// release runs the release script with args, the channel first (see
// lua/lock_release.lua); if it released the hold of version, its watch
// here ends (see holdWatch.startRelease).
func (l *lock) release(ctx context.Context, version uint64, args ...any) (bool, error) {
	if err := l.begin(ctx); err != nil {
		return false, err
	}
	w := l.holdWatchOf(version)
	w.startRelease()
	r, err := lockRelease.run(ctx, l.client(), l.releaseKeys, args...)
	var n int64
	if err == nil {
		n, err = replyInt(r)
	}
	if err != nil {
		w.failRelease()
		return false, l.fail(ctx, err, true)
	}
	w.finishRelease(n == 1)
	return n == 1, nil
}

// Holder reads the hold and checks its lease in one script.
func (l *lock) Holder(ctx context.Context) (uint64, bool, error) {
	if err := l.begin(ctx); err != nil {
		return 0, false, err
	}
	v, err := l.holder(ctx)
	if err != nil {
		return 0, false, l.fail(ctx, err, false)
	}
	return v, v > 0, nil
}

// holder returns the version of the live hold, or 0.
func (l *lock) holder(ctx context.Context) (uint64, error) {
	r, err := lockHolder.run(ctx, l.client(), l.releaseKeys)
	if err != nil {
		return 0, err
	}
	return replyUint(r)
}
