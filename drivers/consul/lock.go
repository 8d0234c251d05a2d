package consul

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// consulLock keeps, under <base>/:
//
//   - h: the hold. It exists exactly while the lock is held, locked (in
//     Consul's KV sense) by the holder's session, and holds a random token
//     naming the acquisition.
//   - w/<token>: one key per waiter, locked by the waiter's session,
//     holding its token.
//
// Acquiring a free lock is one transaction: check-not-exists on h, then a
// KV lock of h with the session. The fencing version is h's ModifyIndex
// after the transaction that created it: Consul's raft index of the
// acquisition. Nothing modifies h while it is held, and every acquisition is
// a later raft entry than every earlier one, so versions are unique and
// strictly increasing across holders.
//
// A waiter registers its key (one transaction that also reads h), then
// follows h with blocking queries. The holder follows the lock's keys too
// (from a few milliseconds after acquiring, so that short holds cost
// nothing) and so knows the waiters: its release is one transaction that
// deletes h and creates it again for the first waiter, with that waiter's
// session and token, and deletes the waiter's key. The waiter's blocking
// query answers with h carrying its own token: it holds the lock without
// another request. When the holder knows no waiter (or the waiter has just
// gone), the release deletes h and the waiters race for it.
//
// The sessions' behaviour is "delete": when a holder's session ends Consul
// deletes h, which releases the lock; a waiter's key goes with its session
// too. A waiter whose context ends deletes its key, and releases h if it was
// handed the lock meanwhile, so it leaves nothing behind (an acquisition or
// registration whose answer was lost is looked up by its token and undone
// in the background).
type consulLock struct {
	primitive
	dir     string // base + "/"
	holdKey string // dir + "h"
	waiters string // dir + "w/"

	mu sync.Mutex
	// acquiring is set while Acquire or TryAcquire runs; abort cancels it.
	acquiring bool
	abort     context.CancelFunc
	hold      *hold
}

var _ driver.Lock = (*consulLock)(nil)

// monitorDelay is how long a holder waits before following the lock's keys
// (to learn the waiters, and that another owner released it).
const monitorDelay = 10 * time.Millisecond

// hold is one acquisition.
type hold struct {
	version uint64
	lost    chan struct{}
	once    sync.Once

	mu   sync.Mutex
	next []*api.KVPair // the waiters' keys, first come first
}

func (h *hold) end() { h.once.Do(func() { close(h.lost) }) }

func (h *hold) ended() bool {
	select {
	case <-h.lost:
		return true
	default:
		return false
	}
}

func (h *hold) firstWaiter() *api.KVPair {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.next) == 0 {
		return nil
	}
	return h.next[0]
}

func newLock(d *Driver, id driver.ID) *consulLock {
	l := &consulLock{}
	l.init(d, kindLock, id)
	l.dir = l.base + "/"
	l.holdKey, l.waiters = l.dir+"h", l.dir+"w/"
	return l
}

var errHeld = errors.New("held by another owner")

// Acquire takes the lock, waiting while someone else holds it.
func (l *consulLock) Acquire(ctx context.Context, s driver.Session) (uint64, <-chan struct{}, error) {
	version, lost, _, err := l.acquire(ctx, s, true)
	return version, lost, err
}

// TryAcquire takes the lock if it is free, without waiting.
func (l *consulLock) TryAcquire(ctx context.Context, s driver.Session) (uint64, <-chan struct{}, bool, error) {
	return l.acquire(ctx, s, false)
}

func (l *consulLock) acquire(ctx context.Context, s driver.Session, wait bool) (uint64, <-chan struct{}, bool, error) {
	if err := l.check("acquire"); err != nil {
		return 0, nil, false, err
	}
	sess, err := l.d.own(s)
	if err != nil {
		return 0, nil, false, err
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return 0, nil, false, errClosed("lock acquire: closed")
	}
	if l.acquiring || l.hold != nil {
		l.mu.Unlock()
		return 0, nil, false, fmt.Errorf("%w: consul lock acquire: this owner already holds or is acquiring the lock", driver.ErrConflict)
	}
	l.acquiring, l.abort = true, cancel
	l.mu.Unlock()
	// The attempt also ends with the driver or the session.
	stopDriver := context.AfterFunc(l.d.ctx, cancel)
	defer stopDriver()
	go func() {
		select {
		case <-sess.done:
			cancel()
		case <-actx.Done():
		}
	}()

	version, err := l.take(actx, sess, wait)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acquiring, l.abort = false, nil
	switch {
	case err != nil && actx.Err() != nil: // interrupted
		switch {
		case ctx.Err() != nil:
			return 0, nil, false, ctx.Err()
		case l.closed.Load() || l.d.closed.Load():
			return 0, nil, false, errClosed("lock acquire: closed while acquiring")
		default:
			return 0, nil, false, errClosed("lock acquire: session " + sess.id + " ended")
		}
	case errors.Is(err, errHeld):
		return 0, nil, false, nil
	case err != nil:
		return 0, nil, false, err
	case l.closed.Load(): // Close ran while the acquisition was answered
		go l.release(context.WithoutCancel(ctx), version)
		return 0, nil, false, errClosed("lock acquire: closed while acquiring")
	}
	h := &hold{version: version, lost: make(chan struct{})}
	l.hold = h
	go l.monitor(h, sess)
	return version, h.lost, true, nil
}

// take acquires the lock. Without wait it returns errHeld when the lock
// is held. Whatever an attempt that fails may leave on the backend (a
// waiter key, or a hold whose answer was lost) is undone: before take
// returns when the attempt was interrupted (ctx ended: the caller gave up,
// Close, the session ended), as the driver contract requires, else (the
// agent failing) in the background.
func (l *consulLock) take(ctx context.Context, sess *session, wait bool) (uint64, error) {
	token := newToken()
	var current *api.KVPair // h as last read; nil when absent
	registered := false
	fail := func(err error) (uint64, error) {
		switch {
		case !registered && !errors.Is(err, driver.ErrAmbiguous):
		case ctx.Err() != nil:
			l.undoNow(sess, token)
		default:
			go l.undo(sess, token)
		}
		return 0, err
	}
	for {
		// h is free (absent, or present without a holder): take it.
		if current == nil || current.Session == "" {
			version, err := l.grab(ctx, sess, token, current)
			switch {
			case err == nil:
				return version, nil
			case errors.Is(err, driver.ErrAmbiguous):
				version, known := l.resolve(ctx, sess, token)
				switch {
				case !known:
					return fail(err)
				case version != 0:
					return version, nil
				}
				// Not taken. Should the lost request still apply, its
				// undo releases it; go on under a new token.
				go l.undo(sess, token)
				token, registered = newToken(), false
			case !errors.Is(err, errHeld):
				return fail(err)
			}
			if current, err = l.peek(ctx); err != nil {
				return fail(err)
			}
			continue
		}
		if current.Session == sess.id && string(current.Value) == token {
			return current.ModifyIndex, nil // handed over by the last holder
		}
		if !wait {
			return 0, errHeld
		}
		if !registered {
			next, err := l.register(ctx, sess, token)
			if err != nil {
				registered = true // it may have been created
				return fail(err)
			}
			current, registered = next, next != nil
			continue
		}
		// Held by someone else: wait for h to change.
		q := (&api.QueryOptions{WaitIndex: current.ModifyIndex, WaitTime: l.d.opts.WaitTime}).WithContext(ctx)
		next, _, err := l.d.kv.Get(l.holdKey, q)
		if err != nil {
			if ctx.Err() != nil {
				return fail(classify(ctx, "lock acquire", err, reading))
			}
			if !sleep(ctx, retryMin) {
				return fail(ctx.Err())
			}
			continue // ask again from the same index
		}
		current = next
	}
}

// grab is one acquisition transaction for a free h: absent (current nil),
// or present without a holder (then checked by index). It also deletes the
// waiter's key, if any. It returns errHeld if h was not as expected.
func (l *consulLock) grab(ctx context.Context, sess *session, token string, current *api.KVPair) (uint64, error) {
	precondition := kvOp{Verb: api.KVCheckNotExists, Key: l.holdKey}
	if current != nil {
		precondition = kvOp{Verb: api.KVCheckIndex, Key: l.holdKey, Index: current.ModifyIndex}
	}
	res, rb, err := l.d.txn(ctx, "lock acquire", []kvOp{
		precondition,
		{Verb: api.KVLock, Key: l.holdKey, Value: []byte(token), Session: sess.id},
		{Verb: api.KVDelete, Key: l.waiters + token},
	})
	switch {
	case err != nil:
		return 0, err
	case rb != nil && strings.Contains(rb.reason(1), "invalid session"):
		sess.end() // Consul no longer knows it
		return 0, errClosed("lock acquire: session " + sess.id + " has ended")
	case rb != nil:
		return 0, errHeld
	}
	// The check-not-exists has no result; the check-index has one.
	return res[len(res)-1].ModifyIndex, nil
}

// register creates the waiter's key and reads h in one transaction. It
// returns h, or nil (and no key) if h was absent.
func (l *consulLock) register(ctx context.Context, sess *session, token string) (*api.KVPair, error) {
	res, rb, err := l.d.txn(ctx, "lock acquire", []kvOp{
		{Verb: api.KVLock, Key: l.waiters + token, Value: []byte(token), Session: sess.id},
		{Verb: api.KVGet, Key: l.holdKey},
	})
	switch {
	case err != nil:
		return nil, err
	case rb != nil && strings.Contains(rb.reason(0), "invalid session"):
		sess.end()
		return nil, errClosed("lock acquire: session " + sess.id + " has ended")
	case rb != nil && rb.has(1): // h is absent: no need to wait
		return nil, nil
	case rb != nil:
		return nil, unexpected("lock acquire", rb)
	}
	return res[1], nil
}

// peek returns h, nil when absent.
func (l *consulLock) peek(ctx context.Context) (*api.KVPair, error) {
	pair, _, err := l.d.kv.Get(l.holdKey, read(ctx))
	if err != nil {
		return nil, classify(ctx, "lock acquire", err, reading)
	}
	return pair, nil
}

// resolve finds out whether the acquisition with token, whose answer was
// lost, took the lock: known is false if that cannot be told (the agent
// stays unreachable for a few seconds, or ctx ends); version is 0 if it did
// not.
func (l *consulLock) resolve(ctx context.Context, sess *session, token string) (version uint64, known bool) {
	backoff := retryMin
	for range 8 {
		pair, _, err := l.d.kv.Get(l.holdKey, readConsistent(ctx))
		if err == nil {
			if pair != nil && pair.Session == sess.id && string(pair.Value) == token {
				return pair.ModifyIndex, true
			}
			return 0, true
		}
		if !sleep(ctx, backoff) {
			break
		}
		backoff = min(2*backoff, retryMax)
	}
	return 0, false
}

// undo removes what a failed acquisition may have left: its waiter key,
// and the hold if it got the lock after all. It retries until it knows,
// the session ends (Consul then deletes both) or the driver is closed.
func (l *consulLock) undo(sess *session, token string) {
	ctx, cancel := context.WithCancel(l.d.ctx)
	defer cancel()
	stop := context.AfterFunc(sess.ctx, cancel)
	defer stop()
	backoff := retryMin
	for !l.undoOnce(ctx, sess, token) {
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, retryMax)
	}
}

// undoNow makes one attempt at undo at once, bounded by retryMax, so that
// an interrupted Acquire returns with nothing of it left: otherwise a
// holder that still counts the abandoned waiter could hand the lock to it
// after Acquire returned. If the attempt fails, undo goes on in the
// background.
func (l *consulLock) undoNow(sess *session, token string) {
	ctx, cancel := context.WithTimeout(l.d.ctx, retryMax)
	defer cancel()
	stop := context.AfterFunc(sess.ctx, cancel)
	defer stop()
	if !l.undoOnce(ctx, sess, token) {
		go l.undo(sess, token)
	}
}

// undoOnce deletes the waiter key of the acquisition with token, then
// releases the hold if that acquisition was handed it, and reports whether
// both are known done.
func (l *consulLock) undoOnce(ctx context.Context, sess *session, token string) bool {
	if _, _, err := l.d.txn(ctx, "lock acquire undo", []kvOp{{Verb: api.KVDelete, Key: l.waiters + token}}); err != nil {
		return false
	}
	pair, _, err := l.d.kv.Get(l.holdKey, readConsistent(ctx))
	if err != nil {
		return false
	}
	if pair == nil || pair.Session != sess.id || string(pair.Value) != token {
		return true
	}
	_, err = l.release(ctx, pair.ModifyIndex)
	return err == nil
}

// monitor ends h when h's key stops being this hold (deleted: released, or
// the session ended; or handed to a waiter), and meanwhile keeps the list
// of waiters for Release. It starts after monitorDelay; its first blocking
// query is from the hold's version, so nothing that happened before is
// missed.
func (l *consulLock) monitor(h *hold, sess *session) {
	ctx, cancel := context.WithCancel(l.d.ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.done:
			h.end()
			l.forget(h)
			cancel()
		case <-h.lost:
		case <-ctx.Done():
		}
	}()
	if !sleepUnless(ctx, monitorDelay, h.lost) {
		return
	}
	follow(ctx, l.d, h.version, func(q *api.QueryOptions) (api.KVPairs, *api.QueryMeta, error) {
		return l.d.kv.List(l.dir, q)
	}, func(pairs api.KVPairs) bool {
		var next []*api.KVPair
		held := false
		for _, p := range pairs {
			switch {
			case p.Key == l.holdKey:
				held = p.ModifyIndex == h.version
			case strings.HasPrefix(p.Key, l.waiters) && p.Session != "":
				next = append(next, p)
			}
		}
		if !held {
			h.end()
			l.forget(h)
			return false
		}
		slices.SortFunc(next, func(a, b *api.KVPair) int { return cmp.Compare(a.CreateIndex, b.CreateIndex) })
		h.mu.Lock()
		h.next = next
		h.mu.Unlock()
		return !h.ended()
	})
}

// sleepUnless waits for d, and reports false if ctx ends or stop closes
// first.
func sleepUnless(ctx context.Context, d time.Duration, stop <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	}
}

// forget drops h if it is still this owner's hold.
func (l *consulLock) forget(h *hold) {
	l.mu.Lock()
	if l.hold == h {
		l.hold = nil
	}
	l.mu.Unlock()
}

// Release gives the lock up if this owner holds it: to the first waiter
// when the holder knows one, else by deleting h.
func (l *consulLock) Release(ctx context.Context) (bool, error) {
	if err := l.check("release"); err != nil {
		return false, err
	}
	return l.releaseOwn(ctx)
}

func (l *consulLock) releaseOwn(ctx context.Context) (bool, error) {
	l.mu.Lock()
	h := l.hold
	l.mu.Unlock()
	if h == nil {
		return false, nil
	}
	ok, err := l.handOver(ctx, h)
	if err != nil {
		return false, err
	}
	h.end()
	l.forget(h)
	return ok, nil
}

// handOver ends h, in favour of its first waiter if it knows one that is
// still waiting.
func (l *consulLock) handOver(ctx context.Context, h *hold) (bool, error) {
	w := h.firstWaiter()
	if w == nil {
		return l.release(ctx, h.version)
	}
	_, rb, err := l.d.txn(ctx, "lock release", []kvOp{
		{Verb: api.KVDeleteCAS, Key: l.holdKey, Index: h.version},
		{Verb: api.KVCheckIndex, Key: w.Key, Index: w.ModifyIndex},
		{Verb: api.KVLock, Key: l.holdKey, Value: w.Value, Session: w.Session},
		{Verb: api.KVDelete, Key: w.Key},
	})
	switch {
	case err != nil:
		return false, err
	case rb != nil && rb.has(0):
		return false, nil // the hold had already ended
	case rb != nil:
		// The waiter left or its session ended: let the others race.
		return l.release(ctx, h.version)
	}
	return true, nil
}

// ReleaseVersion deletes h if its hold has the given version.
func (l *consulLock) ReleaseVersion(ctx context.Context, version uint64) (bool, error) {
	if err := l.check("release version"); err != nil {
		return false, err
	}
	if version == 0 {
		return false, nil
	}
	ok, err := l.release(ctx, version)
	if err != nil {
		return false, err
	}
	l.mu.Lock()
	h := l.hold
	l.mu.Unlock()
	if ok && h != nil && h.version == version {
		h.end()
		l.forget(h)
	}
	return ok, nil
}

// release deletes h if its ModifyIndex is version.
func (l *consulLock) release(ctx context.Context, version uint64) (bool, error) {
	ok, _, err := l.d.kv.DeleteCAS(&api.KVPair{Key: l.holdKey, ModifyIndex: version}, write(ctx))
	if err != nil {
		return false, classify(ctx, "lock release", err, writing)
	}
	return ok, nil
}

// Holder reads h in consistent mode.
func (l *consulLock) Holder(ctx context.Context) (uint64, bool, error) {
	if err := l.check("holder"); err != nil {
		return 0, false, err
	}
	pair, _, err := l.d.kv.Get(l.holdKey, readConsistent(ctx))
	if err != nil {
		return 0, false, classify(ctx, "lock holder", err, reading)
	}
	if pair == nil || pair.Session == "" {
		return 0, false, nil
	}
	return pair.ModifyIndex, true, nil
}

// Close releases the hold, abandons an acquisition in progress and ends
// the instance.
func (l *consulLock) Close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed.Swap(true) {
		l.mu.Unlock()
		return nil
	}
	if l.abort != nil {
		l.abort()
	}
	l.mu.Unlock()
	var err error
	if !l.d.closed.Load() {
		_, err = l.releaseOwn(ctx)
	}
	l.cancel()
	return err
}

// newToken returns a random token naming one acquisition attempt.
func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
