package etcd

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// etcdLock is a driver.Lock: a queue of waiter keys under rootKey + "/",
// ordered by create revision. An owner's attempt to acquire writes the key
// prefix + owner, attached to the session's lease; the key with the lowest
// create revision holds the lock. The driver keeps nothing per owner: the
// key's name is derived from the owner, and a hold is the key's create
// revision (see attempt and hold for what one call keeps). What a handle
// shares among its calls is a watch per key name in use, through which
// every hold learns that its key is gone (see holdWatch).
//
// Fencing version: the create revision of the holder's key. Holders get the
// lock in create-revision order (a waiter holds only once every key created
// before its own is gone, and keys created later have higher revisions), so
// the versions of successive holders are unique and strictly increasing,
// as fencing tokens must be. It is the revision at which the holder joined
// the queue, which for an uncontended lock is the revision at which it got
// it.
//
// Waiting: a waiter watches only its predecessor, the key created just
// before its own, for deletion (no thundering herd). The transaction that
// enqueues a waiter also returns up to two keys ahead of it; when the
// predecessor is the only one, its deletion hands the lock over with no
// further request (keys are never inserted ahead of a waiter, so nothing can
// come between). Otherwise, when the predecessor goes, one transaction
// checks that the waiter's key still exists and finds the new predecessor.
// The watch starts at the server's current revision, with one read of the
// predecessor when writes came in since it was seen (see awaitGone): a
// watch from a past revision is one etcd catches up only every 100 ms,
// which held every handoff under contention back by up to that long.
// Acquire also registers the owner's key with the handle's watch of it, for
// its hold, before the key is created, so that the hold needs no such read (see
// watchOwn); that watch stays open between holds, and so does the driver's
// watch stream (see Driver.keepWatchStream).
//
// Key names: one name per owner, reused by its successive attempts, as
// concurrency.Mutex reuses one per session: etcd keeps a deleted key in its
// index until the revision is compacted, and a new name per attempt would
// make every read of the queue slower with each acquisition. Every attempt
// stores a random token of its own as the key's value, so that removing an
// abandoned attempt's key (which may have to go on in the background) can
// never remove a later attempt's; a hold's key is deleted by comparing its
// create revision.
type etcdLock struct {
	primitive
	prefix string // rootKey + "/"
	end    string

	// watching, if set (by tests, before the lock is used), is called with
	// the key once a watch of awaitGone is in place, its catch-up read
	// done, once a registration with holds is live, and once a hold is
	// known to have missed no deletion of its key.
	watching func(key string)

	holds holdWatch // the handle's watch of its holds' keys
}

var _ driver.Lock = (*etcdLock)(nil)

func newLock(d *Driver, id driver.ID) *etcdLock {
	l := &etcdLock{primitive: newPrimitive(d, kindLock, id)}
	l.prefix = l.root + "/"
	l.end = rangeEnd(l.prefix)
	return l
}

// Acquire enqueues the owner's key and waits until it is at the head of the
// queue. If ctx ends, the session ends or the lock is closed first, the key
// is removed (see attempt.abandon).
func (l *etcdLock) Acquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, error) {
	a, err := l.begin(s, owner)
	if err != nil {
		return driver.Hold{}, err
	}
	// Closing the lock or its driver ends the wait too.
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(l.ctx, cancel)()

	a.watchOwn()
	ahead, err := a.enqueue(actx)
	if err == nil {
		err = a.waitTurn(actx, ahead)
	}
	if err != nil {
		return driver.Hold{}, a.abandon(ctx, err)
	}
	return a.hold()
}

// TryAcquire creates the owner's key only if the queue is empty, in one
// transaction comparing the create revision of the whole range with 0.
func (l *etcdLock) TryAcquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, bool, error) {
	a, err := l.begin(s, owner)
	if err != nil {
		return driver.Hold{}, false, err
	}
	for {
		resp, err := l.txn(ctx, write,
			[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(l.prefix), "=", 0).WithRange(l.end)},
			[]clientv3.Op{clientv3.OpPut(a.key, a.token, clientv3.WithLease(a.s.lease))},
			[]clientv3.Op{clientv3.OpGet(a.key, clientv3.WithKeysOnly())})
		if err != nil {
			return driver.Hold{}, false, a.abandon(ctx, err)
		}
		if resp.Succeeded {
			a.rev, a.seen = resp.Header.Revision, resp.Header.Revision
			h, err := a.hold()
			return h, err == nil, err
		}
		left := rangeResp(resp, 0)
		if len(left) == 0 {
			return driver.Hold{}, false, nil
		}
		// The queue holds only a key this owner left behind: remove it
		// and try again.
		if _, err := l.deleteIf(ctx, a.key, left[0].CreateRevision); err != nil {
			return driver.Hold{}, false, err
		}
	}
}

// Release deletes the owner's key if it is the one created at version.
func (l *etcdLock) Release(ctx context.Context, owner string, version uint64) (bool, error) {
	return l.deleteIf(ctx, l.prefix+owner, int64(version))
}

// ReleaseVersion finds the head of the queue and deletes it if its create
// revision is version: two requests (a key's name cannot be derived from
// its create revision).
func (l *etcdLock) ReleaseVersion(ctx context.Context, version uint64) (bool, error) {
	head, err := l.head(ctx)
	if err != nil || head == nil || uint64(head.CreateRevision) != version {
		return false, err
	}
	return l.deleteIf(ctx, string(head.Key), head.CreateRevision)
}

// Holder reads the head of the queue.
func (l *etcdLock) Holder(ctx context.Context) (uint64, bool, error) {
	head, err := l.head(ctx)
	if err != nil || head == nil {
		return 0, false, err
	}
	return uint64(head.CreateRevision), true, nil
}

// head returns the key with the lowest create revision, or nil.
func (l *etcdLock) head(ctx context.Context) (*mvccKV, error) {
	resp, err := l.get(ctx, l.prefix, clientv3.WithRange(l.end), clientv3.WithKeysOnly(),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1))
	if err != nil || len(resp.Kvs) == 0 {
		return nil, err
	}
	return resp.Kvs[0], nil
}

// deleteIf deletes key if it is the incarnation created at revision
// created, and reports whether it did.
func (l *etcdLock) deleteIf(ctx context.Context, key string, created int64) (bool, error) {
	resp, err := l.txn(ctx, write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", created)},
		[]clientv3.Op{clientv3.OpDelete(key)}, nil)
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}
