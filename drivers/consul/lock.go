package consul

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"

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
// A waiter registers its key (one transaction that also reads h), then
// follows h with blocking queries. A release reads the lock's keys and, in
// one transaction, deletes h, creates it again for the first waiter with
// that waiter's session and value, and deletes the waiter's key. The
// waiter's blocking query answers with h carrying its own token: it holds
// the lock without another request. When nobody waits (or the first waiter
// has just gone), the release deletes h and the waiters race for it.
//
// The sessions' behaviour is "delete": when a holder's session ends Consul
// deletes h, which releases the lock; a waiter's key goes with its session
// too. An attempt that fails (its context ended) deletes its waiter key, and
// releases h if it was handed the lock meanwhile, before Acquire returns.
//
// The driver keeps nothing per owner. A hold's Gone channel is closed by a
// goroutine that follows h with blocking queries from the hold's version
// until h is deleted or replaced, or the session ends.
type consulLock struct {
	primitive
	dir     string // base + "/"
	holdKey string // dir + "h"
	waiters string // dir + "w/"
}

var _ driver.Lock = (*consulLock)(nil)

func newLock(d *Driver, id driver.ID) *consulLock {
	l := &consulLock{}
	l.init(d, kindLock, id)
	l.dir = l.base + "/"
	l.holdKey, l.waiters = l.dir+"h", l.dir+"w/"
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
// there is one, else by deleting h.
func (l *consulLock) Release(ctx context.Context, owner string, version uint64) (bool, error) {
	if err := l.check(); err != nil {
		return false, err
	}
	hold, first, err := l.read(ctx, read(ctx))
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
	hold, first, err := l.read(ctx, read(ctx))
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
	for _, p := range pairs {
		switch {
		case p.Key == l.holdKey:
			hold = p
		case strings.HasPrefix(p.Key, l.waiters) && p.Session != "" && (first == nil || p.CreateIndex < first.CreateIndex):
			first = p
		}
	}
	return hold, first, nil
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

// watchHold returns the Gone channel of the hold with version (see
// watchGone): it ends when h is deleted or replaced.
func (l *consulLock) watchHold(sess *session, version uint64) <-chan struct{} {
	return l.watchGone(sess, l.holdKey, version, func(h *api.KVPair) bool {
		return h != nil && h.ModifyIndex == version
	})
}
