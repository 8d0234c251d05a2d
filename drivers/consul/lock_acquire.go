package consul

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// Acquire takes the lock for owner, waiting while someone else holds it.
func (l *consulLock) Acquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, error) {
	h, _, err := l.acquire(ctx, s, owner, true)
	return h, err
}

// TryAcquire takes the lock for owner if it is free, without waiting.
func (l *consulLock) TryAcquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, bool, error) {
	return l.acquire(ctx, s, owner, false)
}

// errHeld ends an attempt without wait that found the lock held.
var errHeld = errors.New("held by another owner")

func (l *consulLock) acquire(ctx context.Context, s driver.Session, owner string, wait bool) (driver.Hold, bool, error) {
	if err := l.check(); err != nil {
		return driver.Hold{}, false, err
	}
	sess, err := l.d.sessionOf(s)
	if err != nil {
		return driver.Hold{}, false, err
	}
	// The attempt also ends with the session, the primitive or the driver.
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(sess.ctx, cancel)()
	defer context.AfterFunc(l.ctx, cancel)()

	token := newToken()
	a := &attempt{l: l, sess: sess, token: token, value: []byte(token + owner)}
	version, err := a.take(actx, wait)
	switch {
	case err == nil:
		return driver.Hold{Version: version, Gone: l.watchHold(sess, version, a.seen)}, true, nil
	case errors.Is(err, errHeld):
		return driver.Hold{}, false, nil
	}
	if a.traces {
		a.cleanUp(ctx)
	}
	switch {
	case ctx.Err() != nil:
		return driver.Hold{}, false, ctx.Err()
	case l.closed.Load() || l.d.closed.Load():
		return driver.Hold{}, false, errClosed
	case actx.Err() != nil:
		return driver.Hold{}, false, errSessionEnded
	}
	return driver.Hold{}, false, err
}

// attempt is one call of Acquire or TryAcquire.
type attempt struct {
	l     *consulLock
	sess  *session
	token string
	value []byte // token followed by owner: what h holds when this attempt holds it
	// traces is set once the attempt may have left a waiter key or a hold
	// on the backend.
	traces     bool
	registered bool
	// ahead is the waiter key this attempt follows: the one registered
	// just before its own (see attempt.await); nil when the attempt is the
	// first waiter, or does not know its place yet (placed false).
	ahead  *api.KVPair
	placed bool
	// seen is what the first waiter's last answer showed of the lock's
	// keys: when that answer handed it the lock, the hold's follower
	// starts from it (see consulLock.watchHold).
	seen *seenKeys
}

// seenKeys is one answer to a listing of a lock's keys.
type seenKeys struct {
	view  holdView
	hold  uint64 // the hold's ModifyIndex
	index uint64 // the answer's index
}

// take acquires the lock. Without wait it returns errHeld when the lock is
// held.
func (a *attempt) take(ctx context.Context, wait bool) (uint64, error) {
	var current *api.KVPair // h as last read; nil when absent
	if wait && a.l.busy.Load() {
		// Contended: wait in line at once (see consulLock.busy).
		a.traces = true
		next, err := a.register(ctx)
		if err != nil {
			return 0, err
		}
		current, a.registered = next, next != nil
	}
	for {
		if current == nil || current.Session == "" { // free: take it
			a.seen = nil
			version, err := a.grab(ctx, current)
			switch {
			case err == nil:
				return version, nil
			case errors.Is(err, driver.ErrAmbiguous):
				// The answer was lost: look the hold up. If it is not
				// there, the failed attempt's clean-up removes whatever
				// the lost request may still do.
				a.traces = true
				if version := a.resolve(ctx); version != 0 {
					return version, nil
				}
				return 0, err
			case !errors.Is(err, errHeld):
				return 0, err
			}
			if current, err = a.l.peek(ctx); err != nil {
				return 0, err
			}
			continue
		}
		if current.Session == a.sess.id && bytes.Equal(current.Value, a.value) {
			if a.seen != nil && a.seen.hold != current.ModifyIndex {
				a.seen = nil // not what handed it over
			}
			return current.ModifyIndex, nil // handed over by the last holder
		}
		a.l.busy.Store(true)
		if !wait {
			return 0, errHeld
		}
		if !a.registered {
			a.traces = true // even if the answer is lost
			next, err := a.register(ctx)
			if err != nil {
				return 0, err
			}
			current, a.registered = next, next != nil
			continue
		}
		// Held by someone else: wait for h to change.
		next, err := a.await(ctx, current)
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			if err := classify(ctx, err, reading); permanent(err) {
				return 0, err // refused (no read permission): asking again cannot help
			}
			if !driver.Sleep(ctx, retryMin) {
				return 0, ctx.Err()
			}
			continue // ask again from the same index
		}
		current = next
	}
}

// await waits for the attempt's turn while h is current (held by someone
// else), and returns h as it is then. Waiters queue in the order of their
// keys' CreateIndex, the order in which releases hand the lock over, and
// each follows only the waiter ahead of it, like the waiters of ZooKeeper's
// lock recipe: the first waiter follows the lock's keys (so that when it is
// handed the lock it also knows the next waiter, and its Release is one
// transaction), every other one the key of the waiter just before it, which
// goes when that waiter takes the lock or gives up (or its session ends). So
// a handover wakes two waiters, the one that holds the lock and the one that
// becomes first, not all of them: with every waiter following h, each
// handover cost K-1 blocking queries answered and asked again. Registration
// places the attempt; when its place is not known (the key ahead went),
// await lists the lock's keys to find it; an attempt whose key is not among
// them follows h.
func (a *attempt) await(ctx context.Context, current *api.KVPair) (*api.KVPair, error) {
	if !a.placed {
		pairs, meta, err := a.l.d.kv.List(a.l.dir, readLeader(ctx))
		if err != nil {
			return nil, err
		}
		hold, _ := a.l.scan(pairs)
		a.ahead, a.placed = a.l.ahead(pairs, a.l.waiters+a.token), true
		a.seen = &seenKeys{index: meta.LastIndex}
		if hold == nil || hold.ModifyIndex != current.ModifyIndex {
			return hold, nil // changed meanwhile: the caller looks at it first
		}
	}
	if a.ahead == nil {
		index := current.ModifyIndex
		if a.seen != nil {
			index = a.seen.index
		}
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: a.l.d.opts.WaitTime}).WithContext(ctx)
		pairs, meta, err := a.l.d.kv.List(a.l.dir, q)
		if err != nil {
			a.seen = nil
			return nil, err
		}
		hold, first := a.l.scan(pairs)
		a.seen = &seenKeys{index: meta.LastIndex}
		if hold != nil {
			a.seen.view, a.seen.hold = holdView{owner: ownerOf(hold.Value), first: first}, hold.ModifyIndex
		}
		return hold, nil
	}
	q := (&api.QueryOptions{WaitIndex: a.ahead.ModifyIndex, WaitTime: a.l.d.opts.WaitTime}).WithContext(ctx)
	next, _, err := a.l.d.kv.Get(a.ahead.Key, q)
	if err != nil {
		return nil, err
	}
	if next == nil || next.ModifyIndex != a.ahead.ModifyIndex {
		a.placed = false // gone: find the place again
	}
	return current, nil
}

// grab is one acquisition transaction for a free h: absent (current nil),
// or present without a holder (then checked by index). It also deletes the
// attempt's waiter key, if any. It returns errHeld if h was not as
// expected.
func (a *attempt) grab(ctx context.Context, current *api.KVPair) (uint64, error) {
	precondition := kvOp{Verb: api.KVCheckNotExists, Key: a.l.holdKey}
	if current != nil {
		precondition = kvOp{Verb: api.KVCheckIndex, Key: a.l.holdKey, Index: current.ModifyIndex}
	}
	res, rb, err := a.l.d.txn(ctx, []kvOp{
		precondition,
		{Verb: api.KVLock, Key: a.l.holdKey, Value: a.value, Session: a.sess.id},
		{Verb: api.KVDelete, Key: a.l.waiters + a.token},
	})
	switch {
	case err != nil:
		return 0, err
	case rb != nil && strings.Contains(rb.reason(1), "invalid session"):
		a.sess.end() // Consul no longer knows it
		return 0, errSessionEnded
	case rb != nil:
		return 0, errHeld
	}
	// The check-not-exists has no result; the check-index has one.
	return res[len(res)-1].ModifyIndex, nil
}

// register creates the attempt's waiter key and reads h in one
// transaction. It returns h, or nil (and no key) if h was absent. The same
// transaction lists the lock's keys, which places the attempt in line (see
// await) without a listing of its own: one request fewer per contended
// acquisition.
func (a *attempt) register(ctx context.Context) (*api.KVPair, error) {
	own := a.l.waiters + a.token
	res, rb, err := a.l.d.txn(ctx, []kvOp{
		{Verb: api.KVLock, Key: own, Value: a.value, Session: a.sess.id},
		{Verb: api.KVGet, Key: a.l.holdKey},
		{Verb: api.KVGetTree, Key: a.l.dir},
	})
	switch {
	case err != nil:
		return nil, err
	case rb != nil && strings.Contains(rb.reason(0), "invalid session"):
		a.sess.end()
		return nil, errSessionEnded
	case rb != nil && rb.has(1): // h is absent: no need to wait
		a.l.busy.Store(false)
		return nil, nil
	case rb != nil:
		return nil, unexpected(rb)
	}
	// The keys are as of the transaction's raft index, its own key's
	// ModifyIndex: a first waiter's blocking query starts there.
	a.ahead, a.placed = a.l.ahead(res[2:], own), true
	a.seen = &seenKeys{index: res[0].ModifyIndex}
	return res[1], nil
}

// peek returns h, nil when absent.
func (l *consulLock) peek(ctx context.Context) (*api.KVPair, error) {
	pair, _, err := l.d.kv.Get(l.holdKey, l.d.read(ctx))
	if err != nil {
		return nil, classify(ctx, err, reading)
	}
	return pair, nil
}

// resolve returns the version of the hold that an acquisition whose answer
// was lost took, or 0 if it took none (or that cannot be told: the agent
// stays unreachable for a few seconds, or ctx ends).
func (a *attempt) resolve(ctx context.Context) uint64 {
	backoff := retryMin
	for range 8 {
		pair, _, err := a.l.d.kv.Get(a.l.holdKey, readConsistent(ctx))
		if err == nil && a.holds(pair) {
			return pair.ModifyIndex
		}
		if err == nil || permanent(classify(ctx, err, reading)) || !driver.Sleep(ctx, backoff) {
			return 0
		}
		backoff = min(2*backoff, retryMax)
	}
	return 0
}

// holds reports whether h is this attempt's hold.
func (a *attempt) holds(h *api.KVPair) bool {
	return h != nil && h.Session == a.sess.id && bytes.Equal(h.Value, a.value)
}

// cleanUp removes what the attempt may have left: its waiter key, and the
// hold if it got the lock after all (see the function cleanUp).
func (a *attempt) cleanUp(ctx context.Context) { cleanUp(ctx, a.sess, a.undoOnce) }

// undoOnce deletes the attempt's waiter key and releases the hold if the
// attempt got it after all.
func (a *attempt) undoOnce(ctx context.Context) error {
	if _, err := a.l.d.apply(ctx, []kvOp{{Verb: api.KVDelete, Key: a.l.waiters + a.token}}); err != nil {
		return err
	}
	hold, first, err := a.l.read(ctx, readConsistent(ctx))
	if err != nil || !a.holds(hold) {
		return err
	}
	_, err = a.l.handOver(ctx, hold.ModifyIndex, first)
	return err
}
