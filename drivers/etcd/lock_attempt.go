package etcd

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// attempt is one Acquire or TryAcquire call: all the lock keeps about an
// owner, and only while the call lasts.
type attempt struct {
	l     *etcdLock
	s     *session
	key   string      // prefix + owner
	token string      // this attempt's value of the key
	rev   int64       // the key's create revision, once known
	seen  int64       // the latest revision at which the key is known to exist
	own   *holdWaiter // the key's registration for the hold (see watchOwn); may be nil
}

// cleanupTimeout bounds one request that removes an abandoned attempt's key.
const cleanupTimeout = 5 * time.Second

// begin checks that the lock is open and s is a live session of this
// driver, and starts an attempt for owner.
func (l *etcdLock) begin(s driver.Session, owner string) (*attempt, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	es, err := l.d.sessionOf(s)
	if err != nil {
		return nil, err
	}
	return &attempt{l: l, s: es, key: l.prefix + owner, token: strconv.FormatUint(rand.Uint64(), 16)}, nil
}

// enqueue creates the attempt's key at the end of the queue, recording its
// create revision, and returns up to two keys ahead of it, the nearest
// first. A key of the owner's that is still there (an earlier attempt's or
// hold's whose removal was not confirmed, or one bound to an ended session)
// is no longer wanted by anyone: it is deleted and the key created anew, so
// that the attempt's place and version are its own.
func (a *attempt) enqueue(ctx context.Context) ([]*mvccKV, error) {
	l := a.l
	for {
		resp, err := l.txn(ctx, write,
			[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(a.key), "=", 0)},
			[]clientv3.Op{
				clientv3.OpPut(a.key, a.token, clientv3.WithLease(a.s.lease)),
				clientv3.OpGet(l.prefix, clientv3.WithRange(l.end), clientv3.WithKeysOnly(),
					clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortDescend), clientv3.WithLimit(3)),
			},
			[]clientv3.Op{clientv3.OpGet(a.key, clientv3.WithKeysOnly())})
		if err != nil {
			return nil, err
		}
		if resp.Succeeded {
			a.rev, a.seen = resp.Header.Revision, resp.Header.Revision
			return rangeResp(resp, 1)[1:], nil // the first key is ours
		}
		if left := rangeResp(resp, 0); len(left) > 0 {
			if _, err := l.deleteIf(ctx, a.key, left[0].CreateRevision); err != nil {
				return nil, err
			}
		}
	}
}

// waitTurn waits until no key is ahead of the attempt's: it watches its
// predecessor and, unless that was the head, finds the next one.
func (a *attempt) waitTurn(ctx context.Context, ahead []*mvccKV) error {
	l := a.l
	for len(ahead) > 0 {
		pred := ahead[0]
		// a.seen is also the revision at which ahead was read.
		gone, err := l.awaitGone(ctx, a.s, string(pred.Key), pred.CreateRevision, a.seen)
		if err != nil {
			return err
		}
		if len(ahead) == 1 {
			break // the predecessor was the head: the lock is ours
		}
		resp, err := a.readAhead(ctx, gone)
		if err != nil {
			return err
		}
		if !resp.Succeeded {
			return errSessionEnded // only the lease's expiry deletes a waiter's key
		}
		ahead = rangeResp(resp, 0)
		a.seen = resp.Header.Revision
	}
	if !a.s.alive() {
		return errSessionEnded
	}
	return nil
}

// readAhead reads up to two keys ahead of the attempt's, the nearest first,
// in a transaction that succeeds if the attempt's key still exists, at a
// revision not before since.
//
// The read is serializable: the member that answers need not confirm with
// the leader that it is up to date, a round of the consensus protocol on
// the path of every handoff under contention. Its state is then as of
// some revision, which the response's header gives; at or after since, it
// is good enough: no key is ever created ahead of the attempt's, so the
// keys ahead at a revision include every key still ahead at any later one.
// It can only make the attempt wait on a key already gone, whose watch
// then finds it gone at once. A member still before since is asked again
// with a linearizable read: a follower behind, or the very member whose
// watch reported the deletion, since etcd posts a watch event just before
// the write it reports becomes readable.
func (a *attempt) readAhead(ctx context.Context, since int64) (*clientv3.TxnResponse, error) {
	l := a.l
	read1 := func(opts ...clientv3.OpOption) (*clientv3.TxnResponse, error) {
		return l.txn(ctx, read,
			[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(a.key), "=", a.rev)},
			[]clientv3.Op{clientv3.OpGet(l.prefix, append([]clientv3.OpOption{clientv3.WithRange(l.end), clientv3.WithKeysOnly(),
				clientv3.WithMaxCreateRev(a.rev - 1),
				clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortDescend), clientv3.WithLimit(2)}, opts...)...)},
			nil)
	}
	resp, err := read1(clientv3.WithSerializable())
	if err != nil || resp.Header.Revision >= since {
		return resp, err
	}
	return read1()
}

// abandon removes the key of a failed attempt and returns the error to
// report: the caller's context error if it ended, ErrClosed if the lock was
// closed, else err. A write whose outcome was unknown becomes
// ErrUnavailable once the key is known to be gone.
func (a *attempt) abandon(ctx context.Context, err error) error {
	a.dropOwn()
	removed := a.remove()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if cerr := a.l.check(); cerr != nil {
		return cerr
	}
	var de *driver.Error
	if removed && errors.As(err, &de) && de.Kind == driver.ErrAmbiguous {
		return driver.Wrap(driver.ErrUnavailable, de.Cause, "the lock was not acquired")
	}
	return err
}

// remove deletes the attempt's key, if it still holds the attempt's token,
// with a fresh context. If that fails it keeps trying in the background
// (driver.RetryCleanup) until it succeeds, the session ends or the driver
// closes, since a stale key would otherwise hold the lock for as long as
// the session lives. The token makes a late removal harmless to a later
// attempt of the same owner. It reports whether the key is known to be
// gone.
func (a *attempt) remove() bool {
	if a.tryRemove() {
		return true
	}
	a.l.d.spawn(func() {
		driver.RetryCleanup(a.l.d.ctx, a.s.Done(), func(context.Context) error {
			if !a.tryRemove() {
				return errNotRemoved
			}
			return nil
		})
	})
	return false
}

// errNotRemoved is a failed try of attempt.remove.
var errNotRemoved = errors.New("etcd: the attempt's key could not be removed")

func (a *attempt) tryRemove() bool {
	ctx, cancel := context.WithTimeout(a.l.d.ctx, cleanupTimeout)
	defer cancel()
	_, err := a.l.d.client.Txn(ctx).
		If(clientv3.Compare(clientv3.Value(a.key), "=", a.token)).
		Then(clientv3.OpDelete(a.key)).
		Commit()
	return err == nil
}
