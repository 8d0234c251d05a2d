package consul

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// consulLock keeps, under <base>/:
//
//   - h: the hold. It exists exactly while the lock is held, locked (in
//     Consul's KV sense) by the holder's session, and holds the acquisition
//     attempt's token followed by the owner.
//   - w/<token>: one key per waiting attempt, locked by the waiter's
//     session, holding the same token and owner.
//
// Acquiring a free lock is one transaction: check-not-exists on h, then a
// KV lock of h with the session. The fencing version is h's ModifyIndex
// after the transaction that created it: Consul's raft index of the
// acquisition. Nothing modifies h while it is held, and every acquisition is
// a later raft entry than every earlier one, so versions are unique and
// strictly increasing across holders, and a version alone names a hold.
//
// A waiter registers its key (one transaction that also reads h and lists
// the lock's keys, which tells it its place in line), then waits with
// blocking queries in the order of the waiter keys' CreateIndex: the first
// waiter follows the lock's keys, each other one the key of the waiter just
// before it (see attempt.await), so that a handover wakes two waiters, not
// all of them. A release reads the lock's keys (or has them from the hold's
// follower) and, in one transaction, deletes h, creates it again for the
// first waiter with that waiter's session and value, and deletes the
// waiter's key. The waiter's blocking query answers with h carrying its own
// token: it holds the lock without another request. When nobody waits (or
// the first waiter has just gone), the release deletes h and the waiters
// race for it.
//
// The sessions' behaviour is "delete": when a holder's session ends Consul
// deletes h, which releases the lock; a waiter's key goes with its session
// too. An attempt that fails (its context ended) deletes its waiter key, and
// releases h if it was handed the lock meanwhile, before Acquire returns.
//
// The driver keeps nothing per owner. A hold's Gone channel is closed by a
// goroutine that follows the lock's keys with blocking queries until h is
// deleted or replaced, or the session ends; what it last saw (the owner and
// the first waiter) lets the instance that acquired the hold release it in
// one transaction.
type consulLock struct {
	primitive
	dir     string // base + "/"
	holdKey string // dir + "h"
	waiters string // dir + "w/"

	// held maps the version of every hold this instance acquired and
	// still follows (see watchHold) to what the last answer showed: the
	// owner and the first waiter. Release uses it to hand over in one
	// transaction, without reading the waiters first.
	mu   sync.Mutex
	held map[uint64]holdView
	// seen maps the version of every hold whose follower has not
	// answered yet to a channel closed when it has (or failed to).
	// Release waits for that answer rather than read the keys itself.
	seen map[uint64]chan struct{}

	// busy is set while this instance believes the lock is contended:
	// its last attempt found it held, or its last release handed it to a
	// waiter. An Acquire then registers as a waiter at once (that
	// transaction also reads the hold) instead of first trying a take
	// that would fail: under contention a waiter costs one write, not
	// two writes and a read.
	busy atomic.Bool
}

// holdView is a hold as its follower last saw it.
type holdView struct {
	owner string
	first *api.KVPair // the first waiter, nil when none
}

var _ driver.Lock = (*consulLock)(nil)

func newLock(d *Driver, id driver.ID) *consulLock {
	l := &consulLock{}
	l.init(d, kindLock, id)
	l.dir = l.base + "/"
	l.holdKey, l.waiters = l.dir+"h", l.dir+"w/"
	l.held = map[uint64]holdView{}
	l.seen = map[uint64]chan struct{}{}
	return l
}

// tokenSize is the length of an attempt's token: 32 hex digits.
const tokenSize = 32

// newToken returns a random token naming one acquisition attempt.
func newToken() string {
	var b [tokenSize / 2]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ownerOf returns the owner in the value of h or of a waiter key.
func ownerOf(value []byte) string {
	if len(value) < tokenSize {
		return ""
	}
	return string(value[tokenSize:])
}

// Release gives up the hold of owner with version: to the first waiter if
// there is one, else by deleting h. When this instance acquired the hold
// and its follower has answered (see watchHold), that is one transaction:
// the follower already knows the owner and the first waiter, and the
// transaction checks both the hold's version and the waiter's index. A
// waiter that registered after the follower's last answer is not known
// yet: the release then deletes h and the waiters race for it, as they do
// when nobody waits. Otherwise Release reads the lock's keys first.
func (l *consulLock) Release(ctx context.Context, owner string, version uint64) (bool, error) {
	if err := l.check(); err != nil {
		return false, err
	}
	l.mu.Lock()
	seen := l.seen[version]
	l.mu.Unlock()
	if seen != nil {
		select { // the follower's first answer is on its way
		case <-seen:
		case <-ctx.Done():
		}
	}
	l.mu.Lock()
	view, known := l.held[version]
	l.mu.Unlock()
	if known {
		if view.owner != owner {
			return false, nil
		}
		return l.handOver(ctx, version, view.first)
	}
	hold, first, err := l.read(ctx, readLeader(ctx))
	if err != nil || hold == nil || hold.ModifyIndex != version || ownerOf(hold.Value) != owner {
		return false, err
	}
	return l.handOver(ctx, version, first)
}

// ReleaseVersion gives up the hold with version, whoever holds it, as
// Release does.
func (l *consulLock) ReleaseVersion(ctx context.Context, version uint64) (bool, error) {
	if err := l.check(); err != nil {
		return false, err
	}
	hold, first, err := l.read(ctx, readLeader(ctx))
	if err != nil || hold == nil || hold.ModifyIndex != version {
		return false, err
	}
	return l.handOver(ctx, version, first)
}

// read lists the lock's keys and returns h (nil when absent) and the first
// waiter (nil when none).
func (l *consulLock) read(ctx context.Context, q *api.QueryOptions) (hold, first *api.KVPair, err error) {
	pairs, _, err := l.d.kv.List(l.dir, q)
	if err != nil {
		return nil, nil, classify(ctx, err, reading)
	}
	hold, first = l.scan(pairs)
	return hold, first, nil
}

// scan returns h (nil when absent) and the first waiter (nil when none)
// among the lock's keys.
func (l *consulLock) scan(pairs api.KVPairs) (hold, first *api.KVPair) {
	for _, p := range pairs {
		switch {
		case p.Key == l.holdKey:
			hold = p
		case strings.HasPrefix(p.Key, l.waiters) && p.Session != "" && (first == nil || p.CreateIndex < first.CreateIndex):
			first = p
		}
	}
	return hold, first
}

// ahead returns, among the lock's keys, the waiter registered just before
// the waiter key own: nil when own is first, or not among them.
func (l *consulLock) ahead(pairs api.KVPairs, own string) *api.KVPair {
	var me *api.KVPair
	for _, p := range pairs {
		if p.Key == own {
			me = p
		}
	}
	if me == nil {
		return nil
	}
	var ahead *api.KVPair
	for _, p := range pairs {
		if strings.HasPrefix(p.Key, l.waiters) && p.Session != "" && p.CreateIndex < me.CreateIndex && (ahead == nil || p.CreateIndex > ahead.CreateIndex) {
			ahead = p
		}
	}
	return ahead
}

// handOver ends the hold with version, in favour of the waiter w if it is
// not nil and still waiting, and reports whether the hold was still there.
func (l *consulLock) handOver(ctx context.Context, version uint64, w *api.KVPair) (bool, error) {
	if w == nil {
		return l.release(ctx, version)
	}
	_, rb, err := l.d.txn(ctx, []kvOp{
		{Verb: api.KVDeleteCAS, Key: l.holdKey, Index: version},
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
		return l.release(ctx, version)
	}
	l.busy.Store(true)
	return true, nil
}

// release deletes h if its ModifyIndex is version.
func (l *consulLock) release(ctx context.Context, version uint64) (bool, error) {
	ok, _, err := l.d.kv.DeleteCAS(&api.KVPair{Key: l.holdKey, ModifyIndex: version}, write(ctx))
	if err != nil {
		return false, classify(ctx, err, writing)
	}
	return ok, nil
}

// Holder reads h in consistent mode.
func (l *consulLock) Holder(ctx context.Context) (uint64, bool, error) {
	if err := l.check(); err != nil {
		return 0, false, err
	}
	pair, _, err := l.d.kv.Get(l.holdKey, readConsistent(ctx))
	if err != nil {
		return 0, false, classify(ctx, err, reading)
	}
	if pair == nil || pair.Session == "" {
		return 0, false, nil
	}
	return pair.ModifyIndex, true, nil
}

// watchHold returns the Gone channel of the hold with version: closed when
// a blocking query on the lock's keys shows h deleted or replaced, or when
// sess ends (or the driver is closed, which ends sess), whichever comes
// first. Its goroutine ends then too. While it runs it keeps what its last
// answer showed in l.held, for Release. Its first query does not block, so
// that Release knows the waiters soon after the acquisition, unless the
// acquisition came with an answer to start from (from, not nil: the
// first waiter's answer that handed it the lock).
func (l *consulLock) watchHold(sess *session, version uint64, from *seenKeys) <-chan struct{} {
	gone := make(chan struct{})
	seen := make(chan struct{})
	var index uint64
	l.mu.Lock()
	if from != nil && from.hold == version {
		l.held[version], index = from.view, from.index
		close(seen)
	} else {
		l.seen[version] = seen
	}
	l.mu.Unlock()
	// answered ends the wait of a Release for the first answer.
	answered := func() {
		l.mu.Lock()
		if l.seen[version] == seen {
			delete(l.seen, version)
			close(seen)
		}
		l.mu.Unlock()
	}
	go func() {
		defer close(gone)
		defer func() {
			answered()
			l.mu.Lock()
			delete(l.held, version)
			l.mu.Unlock()
		}()
		ended := false
		follow(sess.ctx, l.d, index, func(q *api.QueryOptions) (api.KVPairs, *api.QueryMeta, error) {
			pairs, meta, err := l.d.kv.List(l.dir, q)
			if err != nil {
				answered() // Release reads for itself
			}
			return pairs, meta, err
		}, func(pairs api.KVPairs) bool {
			hold, first := l.scan(pairs)
			ended = hold == nil || hold.ModifyIndex != version
			l.mu.Lock()
			if ended {
				delete(l.held, version)
			} else {
				l.held[version] = holdView{owner: ownerOf(hold.Value), first: first}
			}
			l.mu.Unlock()
			answered()
			return !ended
		}, nil)
		if !ended { // the agent refused the query for good: rely on the session
			<-sess.ctx.Done()
		}
	}()
	return gone
}
