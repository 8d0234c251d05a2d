package etcd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// etcdLock is a driver.Lock: a queue of waiter keys under rootKey + "/",
// ordered by create revision. Each attempt to acquire writes one key,
// attached to the session's lease. The key with the lowest create revision
// holds the lock.
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
//
// Key names: an owner (one etcdLock value) uses the same key name for all
// its attempts with one session, prefix + lease + "-" + a random number of
// its own, as concurrency.Mutex does: etcd keeps a deleted key in its index
// until the revision is compacted, and a new name per attempt would make
// every read of the queue slower with each acquisition. A key is therefore
// identified by its name and its create revision, and every delete of a
// hold's key compares the create revision. (If removing an abandoned
// attempt's key has to go on in the background, the owner draws a new
// random number, so that the background delete cannot hit a later attempt.)
//
// Loss: from its first hold on, an owner keeps one watch on its key (see
// lossWatcher): when the current hold's key is deleted by someone else
// (ReleaseVersion) or by the lease's expiry, or when the session's Done
// channel closes, the hold's lost channel closes.
type etcdLock struct {
	primitive
	prefix string
	end    string

	mu    sync.Mutex
	nonce uint64 // random, names this owner's key
	state lockState
	abort context.CancelFunc // cancels an Acquire in progress
	hold  *hold              // the current hold, when state == lockHeld
	loss  *lossWatcher       // watches this owner's key, once it has held

	// The attempt in progress, so that a deletion of its key that the
	// loss watcher sees before the attempt becomes a hold is not missed.
	attemptKey     string
	attemptRev     int64 // its create revision, once known
	attemptGoneRev int64 // the latest revision at which its key was seen deleted
}

type lockState int

const (
	lockIdle lockState = iota
	lockAcquiring
	lockHeld
)

// hold is one acquisition of the lock by this owner.
type hold struct {
	key      string
	version  int64 // the key's create revision
	session  *session
	lost     chan struct{}
	lostOnce sync.Once
}

func (h *hold) end() { h.lostOnce.Do(func() { close(h.lost) }) }

// lossWatcher is the one watch an owner keeps on its key, from its first
// hold until it closes (or its key's name changes): a deletion of the
// current hold's key or the end of the session ends the hold. Keeping it
// across holds spares every Lock and Unlock the creation and cancellation
// of a watch.
type lossWatcher struct {
	session *session
	key     string
	stop    context.CancelFunc
}

var _ driver.Lock = (*etcdLock)(nil)

// cleanupTimeout bounds the request that removes an abandoned waiter key.
const cleanupTimeout = 5 * time.Second

func newLock(d *Driver, id driver.ID) *etcdLock {
	l := &etcdLock{primitive: newPrimitive(d, kindLock, id), nonce: rand.Uint64()}
	l.prefix = l.root + "/"
	l.end = rangeEnd(l.prefix)
	return l
}

// begin moves the owner from idle to acquiring and returns the attempt's
// context and key.
func (l *etcdLock) begin(ctx context.Context, op string, s *session) (context.Context, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.check(op); err != nil {
		return nil, "", err
	}
	if l.state != lockIdle {
		return nil, "", l.fail(op, driver.ErrConflict, "this owner already holds or is acquiring the lock")
	}
	actx, cancel := context.WithCancel(ctx)
	l.state = lockAcquiring
	l.abort = cancel
	l.attemptKey = fmt.Sprintf("%s%016x-%016x", l.prefix, uint64(s.lease), l.nonce)
	l.attemptRev, l.attemptGoneRev = 0, 0
	return actx, l.attemptKey, nil
}

// enqueued records the create revision of the attempt's key.
func (l *etcdLock) enqueued(rev int64) {
	l.mu.Lock()
	l.attemptRev = rev
	l.mu.Unlock()
}

// abandon moves the owner from acquiring back to idle.
func (l *etcdLock) abandon() {
	l.mu.Lock()
	if l.abort != nil {
		l.abort()
		l.abort = nil
	}
	if l.state == lockAcquiring {
		l.state = lockIdle
	}
	l.attemptKey, l.attemptRev, l.attemptGoneRev = "", 0, 0
	l.mu.Unlock()
}

// Acquire enqueues a waiter key and waits until it is at the head.
func (l *etcdLock) Acquire(ctx context.Context, s driver.Session) (uint64, <-chan struct{}, error) {
	const op = "acquire"
	es, err := l.d.sessionOf(l.kind+" "+op, s)
	if err != nil {
		return 0, nil, err
	}
	actx, key, err := l.begin(ctx, op, es)
	if err != nil {
		return 0, nil, err
	}
	defer l.abandon()

	resp, err := l.txn(actx, op, write, nil,
		[]clientv3.Op{
			clientv3.OpPut(key, "", clientv3.WithLease(es.lease)),
			clientv3.OpGet(l.prefix, clientv3.WithRange(l.end), clientv3.WithKeysOnly(),
				clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortDescend), clientv3.WithLimit(3)),
		}, nil)
	if err != nil {
		return 0, nil, l.failAttempt(ctx, op, es, key, err)
	}
	myRev := resp.Header.Revision
	l.enqueued(myRev)
	ahead := rangeResp(resp, 1)[1:] // the first key is ours
	watchFrom := myRev + 1
	for len(ahead) > 0 {
		pred := string(ahead[0].Key)
		predIsHead := len(ahead) == 1
		if err := l.awaitDelete(actx, es, pred, watchFrom); err != nil {
			return 0, nil, l.failAttempt(ctx, op, es, key, err)
		}
		if predIsHead {
			break
		}
		// Who is ahead now? (Also checks that our key still exists.)
		resp, err := l.txn(actx, op, read,
			[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", myRev)},
			[]clientv3.Op{clientv3.OpGet(l.prefix, clientv3.WithRange(l.end), clientv3.WithKeysOnly(),
				clientv3.WithMaxCreateRev(myRev-1),
				clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortDescend), clientv3.WithLimit(2))},
			nil)
		if err != nil {
			return 0, nil, l.failAttempt(ctx, op, es, key, err)
		}
		if !resp.Succeeded {
			return 0, nil, l.failAttempt(ctx, op, es, key, l.fail(op, driver.ErrClosed, "session %s expired while waiting", es.idStr))
		}
		ahead = rangeResp(resp, 0)
		watchFrom = resp.Header.Revision + 1
	}
	if !es.alive() {
		return 0, nil, l.failAttempt(ctx, op, es, key, l.fail(op, driver.ErrClosed, "session %s ended", es.idStr))
	}
	lost, err := l.acquired(es, key, myRev)
	if err != nil {
		return 0, nil, l.failAttempt(ctx, op, es, key, err)
	}
	return uint64(myRev), lost, nil
}

// TryAcquire creates a waiter key only if the queue is empty, in one
// transaction comparing the create revision of the whole range with 0.
func (l *etcdLock) TryAcquire(ctx context.Context, s driver.Session) (uint64, <-chan struct{}, bool, error) {
	const op = "try acquire"
	es, err := l.d.sessionOf(l.kind+" "+op, s)
	if err != nil {
		return 0, nil, false, err
	}
	actx, key, err := l.begin(ctx, op, es)
	if err != nil {
		return 0, nil, false, err
	}
	defer l.abandon()

	resp, err := l.txn(actx, op, write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(l.prefix), "=", 0).WithRange(l.end)},
		[]clientv3.Op{clientv3.OpPut(key, "", clientv3.WithLease(es.lease))}, nil)
	if err != nil {
		return 0, nil, false, l.failAttempt(ctx, op, es, key, err)
	}
	if !resp.Succeeded {
		return 0, nil, false, nil
	}
	version := resp.Header.Revision
	l.enqueued(version)
	lost, err := l.acquired(es, key, version)
	if err != nil {
		return 0, nil, false, l.failAttempt(ctx, op, es, key, err)
	}
	return uint64(version), lost, true, nil
}

// acquired records the hold and makes sure its loss is watched.
func (l *etcdLock) acquired(es *session, key string, version int64) (<-chan struct{}, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.check("acquire"); err != nil {
		return nil, err
	}
	h := &hold{key: key, version: version, session: es, lost: make(chan struct{})}
	if l.attemptKey == key && l.attemptGoneRev > version {
		// Deleted already (ReleaseVersion, expiry): held, and lost.
		h.end()
		return h.lost, nil
	}
	l.hold = h
	l.state = lockHeld
	if l.loss != nil && l.loss.session == es && l.loss.key == key {
		return h.lost, nil
	}
	if l.loss != nil {
		l.loss.stop()
	}
	ctx, stop := context.WithCancel(l.ctx)
	lw := &lossWatcher{session: es, key: key, stop: stop}
	l.loss = lw
	if !l.spawn(func() { l.watchLoss(ctx, lw, version+1) }) {
		stop()
		l.loss, l.hold, l.state = nil, nil, lockIdle
		h.end()
		return nil, l.fail("acquire", driver.ErrClosed, "")
	}
	return h.lost, nil
}

// failAttempt removes the waiter key of a failed attempt and returns the
// error to report: the caller's context error if it ended, ErrClosed if
// the lock was closed, else err. A write whose outcome was unknown becomes
// ErrUnavailable once the key is known to be gone.
func (l *etcdLock) failAttempt(ctx context.Context, op string, es *session, key string, err error) error {
	removed := l.removeWaiter(es, key)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case l.closed.Load() || l.d.closed.Load():
		return l.fail(op, driver.ErrClosed, "")
	case removed && errors.Is(err, driver.ErrAmbiguous):
		return l.fail(op, driver.ErrUnavailable, "the lock was not acquired: %v", err)
	}
	return err
}

// removeWaiter deletes the key of the attempt in progress with a fresh
// context. (No other attempt of this owner can have created the key meanwhile:
// the owner is still acquiring.) If that fails it draws a new name for the
// owner's later attempts and keeps trying in the background until it
// succeeds or the session ends, since a stale waiter key would otherwise
// hold the lock for as long as the session lives. It reports whether the
// key is known to be gone.
func (l *etcdLock) removeWaiter(es *session, key string) bool {
	if l.tryDelete(key) {
		return true
	}
	l.mu.Lock()
	l.nonce = rand.Uint64()
	l.mu.Unlock()
	l.d.spawn(func() {
		delay := 100 * time.Millisecond
		for !l.tryDelete(key) {
			t := time.NewTimer(delay)
			select {
			case <-es.done:
				t.Stop()
				return
			case <-l.d.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			delay = min(2*delay, 2*time.Second)
		}
	})
	return false
}

func (l *etcdLock) tryDelete(key string) bool {
	ctx, cancel := context.WithTimeout(l.d.ctx, cleanupTimeout)
	defer cancel()
	_, err := l.d.client.Delete(ctx, key)
	return err == nil
}

// awaitDelete waits until key is deleted at a revision >= from, or the
// session ends, or ctx ends. It needs the predecessor's deletion only, so
// it filters out puts.
func (l *etcdLock) awaitDelete(ctx context.Context, es *session, key string, from int64) error {
	for {
		wctx, cancel := context.WithCancel(ctx)
		wch := l.d.client.Watch(clientv3.WithRequireLeader(wctx), key, clientv3.WithRev(from), clientv3.WithFilterPut())
		deleted, err := waitDeleteEvent(ctx, es, wch)
		cancel()
		if deleted || err != nil {
			return err
		}
		// The watch broke (compaction, leader loss): look at the key.
		resp, err := l.get(ctx, "acquire", key, clientv3.WithCountOnly())
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, driver.ErrClosed) {
				return err
			}
			if !sleepCtx(ctx, 100*time.Millisecond) {
				return ctx.Err()
			}
			continue
		}
		if resp.Count == 0 {
			return nil
		}
		from = resp.Header.Revision + 1
	}
}

// waitDeleteEvent reads wch until a delete event (true), the watch ends
// (false, nil), the session ends or ctx ends (false, error).
func waitDeleteEvent(ctx context.Context, es *session, wch clientv3.WatchChan) (bool, error) {
	for {
		select {
		case resp, ok := <-wch:
			if !ok || resp.Canceled || resp.Err() != nil {
				if ctx.Err() != nil {
					return false, ctx.Err()
				}
				return false, nil
			}
			for _, ev := range resp.Events {
				if ev.Type == clientv3.EventTypeDelete {
					return true, nil
				}
			}
		case <-es.done:
			return false, errorf("lock acquire", driver.ErrClosed, "session %s ended", es.idStr)
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// watchLoss runs a lossWatcher from revision from until ctx ends or the
// session ends; either way the hold, if any, is over.
func (l *etcdLock) watchLoss(ctx context.Context, lw *lossWatcher, from int64) {
	defer func() {
		l.mu.Lock()
		if l.loss == lw {
			l.loss = nil
		}
		l.mu.Unlock()
		l.watchEnded(lw)
	}()
	for {
		wctx, cancel := context.WithCancel(ctx)
		wch := l.d.client.Watch(clientv3.WithRequireLeader(wctx), lw.key, clientv3.WithRev(from), clientv3.WithFilterPut())
		broken := false
		for !broken {
			select {
			case resp, ok := <-wch:
				if !ok || resp.Canceled || resp.Err() != nil {
					broken = true
					break
				}
				for _, ev := range resp.Events {
					if ev.Type == clientv3.EventTypeDelete {
						l.keyDeleted(lw.key, ev.Kv.ModRevision)
					}
				}
			case <-lw.session.done:
				cancel()
				return
			case <-ctx.Done():
				// Closed or crashed: nothing renews the session any more.
				cancel()
				return
			}
		}
		cancel()
		// The watch broke (compaction, leader loss): look at the key and
		// go on from there.
		resp, err := l.get(ctx, "watch", lw.key)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, driver.ErrClosed) {
				return
			}
			sleepCtx(ctx, 100*time.Millisecond)
			continue
		}
		var created int64
		if len(resp.Kvs) > 0 {
			created = resp.Kvs[0].CreateRevision
		}
		l.keyState(lw.key, created, resp.Header.Revision)
		from = resp.Header.Revision + 1
	}
}

// keyDeleted ends the current hold if its key was deleted at revision rev,
// and remembers the deletion for an attempt in progress.
func (l *etcdLock) keyDeleted(key string, rev int64) {
	l.mu.Lock()
	h := l.hold
	if key == l.attemptKey {
		l.attemptGoneRev = max(l.attemptGoneRev, rev)
	}
	l.mu.Unlock()
	if h != nil && h.key == key && rev > h.version {
		l.endHold(h)
	}
}

// keyState is keyDeleted for a read: at revision rev, key had create
// revision created (0 when absent).
func (l *etcdLock) keyState(key string, created, rev int64) {
	l.mu.Lock()
	h := l.hold
	if key == l.attemptKey && l.attemptRev != 0 && l.attemptRev <= rev && created != l.attemptRev {
		l.attemptGoneRev = max(l.attemptGoneRev, rev)
	}
	l.mu.Unlock()
	if h != nil && h.key == key && h.version <= rev && created != h.version {
		l.endHold(h)
	}
}

// watchEnded ends the current hold if lw was watching it.
func (l *etcdLock) watchEnded(lw *lossWatcher) {
	l.mu.Lock()
	h := l.hold
	l.mu.Unlock()
	if h != nil && h.session == lw.session && h.key == lw.key {
		l.endHold(h)
	}
}

// endHold ends h and, if it is still the owner's current hold, returns the
// owner to idle.
func (l *etcdLock) endHold(h *hold) {
	l.mu.Lock()
	if l.hold == h {
		l.hold = nil
		l.state = lockIdle
	}
	l.mu.Unlock()
	h.end()
}

// deleteHold deletes key if it is the incarnation created at version.
func (l *etcdLock) deleteHold(ctx context.Context, op, key string, version int64) (bool, error) {
	resp, err := l.txn(ctx, op, write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", version)},
		[]clientv3.Op{clientv3.OpDelete(key)}, nil)
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// Release deletes this owner's key if it holds the lock.
func (l *etcdLock) Release(ctx context.Context) (bool, error) {
	if err := l.check("release"); err != nil {
		return false, err
	}
	l.mu.Lock()
	h := l.hold
	l.mu.Unlock()
	if h == nil {
		return false, nil
	}
	released, err := l.deleteHold(ctx, "release", h.key, h.version)
	if err != nil {
		return false, err
	}
	l.endHold(h)
	return released, nil
}

// ReleaseVersion finds the head of the queue and deletes it if its create
// revision is version: two requests (a key's name cannot be derived from
// its create revision).
func (l *etcdLock) ReleaseVersion(ctx context.Context, version uint64) (bool, error) {
	if err := l.check("release version"); err != nil {
		return false, err
	}
	head, err := l.head(ctx, "release version")
	if err != nil || head == nil || uint64(head.CreateRevision) != version {
		return false, err
	}
	released, err := l.deleteHold(ctx, "release version", string(head.Key), head.CreateRevision)
	if err != nil {
		return false, err
	}
	l.mu.Lock()
	h := l.hold
	l.mu.Unlock()
	if h != nil && uint64(h.version) == version {
		l.endHold(h)
	}
	return released, nil
}

// Holder reads the head of the queue.
func (l *etcdLock) Holder(ctx context.Context) (uint64, bool, error) {
	if err := l.check("holder"); err != nil {
		return 0, false, err
	}
	head, err := l.head(ctx, "holder")
	if err != nil || head == nil {
		return 0, false, err
	}
	return uint64(head.CreateRevision), true, nil
}

// head returns the key with the lowest create revision, or nil.
func (l *etcdLock) head(ctx context.Context, op string) (*mvccKV, error) {
	resp, err := l.get(ctx, op, l.prefix, clientv3.WithRange(l.end), clientv3.WithKeysOnly(),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1))
	if err != nil || len(resp.Kvs) == 0 {
		return nil, err
	}
	return resp.Kvs[0], nil
}

// Close releases the hold, abandons an Acquire in progress (which removes
// its waiter key and returns ErrClosed), and ends the loss watcher.
func (l *etcdLock) Close(ctx context.Context) error {
	l.mu.Lock()
	l.d.mu.Lock()
	l.closed.Store(true)
	l.d.mu.Unlock()
	abort, h := l.abort, l.hold
	l.mu.Unlock()
	if abort != nil {
		abort()
	}
	var err error
	if h != nil {
		if _, derr := l.deleteHold(ctx, "close", h.key, h.version); derr != nil {
			err = derr
		}
		l.endHold(h)
	}
	l.close()
	return err
}

// sleepCtx waits for d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
