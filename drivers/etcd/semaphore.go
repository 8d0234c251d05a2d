package etcd

import (
	"context"
	"strconv"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// kindSemaphore is the semaphore's kind as it appears in keys.
const kindSemaphore = string(driver.KindSemaphore)

// etcdSemaphore is a driver.Semaphore: a queue of waiter keys under
// rootKey + "/w/", ordered by create revision, as for the lock, plus the
// limit record rootKey + "/limit".
//
// An owner's attempt writes the key prefix + owner, attached to the
// session's lease, with the value "PERMITS/TOKEN". The keys ahead of it in
// create-revision order are the earlier arrivals; an attempt holds its
// permits once the permits of every key ahead of it, plus its own, fit in
// the limit. So the holders are always a prefix of the queue: waiters are
// granted strictly in arrival order (a large request blocks every later
// one, however small), and nothing but keys is kept on the backend.
//
// Fencing version: the create revision of the holder's key. Since grants
// follow create-revision order, every grant's version is above that of
// every earlier grant.
//
// Waiting: a waiter watches the whole queue for deletions from the revision
// after its key's creation, and subtracts the permits of each key ahead of
// it that goes (keys are never inserted ahead of a waiter); its own key's
// deletion means its lease expired. Every deletion wakes every waiter: a
// waiter cannot know which deletion lets it in without knowing the others'
// permits. When the watch breaks (compaction, leader loss) one transaction
// checks that the waiter's key still exists and reads the keys ahead anew.
//
// The limit record is written by the first OpenSemaphore of the ID and
// never removed: the limit of a semaphore name is fixed for as long as the
// etcd keyspace keeps it. Every enqueue compares it in the same
// transaction, so an instance with another limit gets ErrConflict.
//
// The per-owner machinery (an attempt's key and token, its removal when
// abandoned, the watch that closes a hold's Gone) is the lock's, run over
// the semaphore's keys: l is a lock view of this primitive whose prefix is
// the waiter queue.
type etcdSemaphore struct {
	l        *etcdLock
	limit    int
	limitKey string
	limitVal string
}

var _ driver.Semaphore = (*etcdSemaphore)(nil)

// OpenSemaphore opens the semaphore id with limit permits. Unlike the
// other Open methods it reads the limit record: it checks it (ErrConflict if
// it differs), or writes it if the semaphore has none yet.
func (d *Driver) OpenSemaphore(ctx context.Context, id driver.ID, limit int) (driver.Semaphore, error) {
	if limit < 1 {
		return nil, driver.Errorf(driver.ErrInvalid, "semaphore limit %d is below 1", limit)
	}
	if d.closed.Load() {
		return nil, errDriverClosed
	}
	l := &etcdLock{primitive: newPrimitive(d, kindSemaphore, id)}
	l.prefix = l.root + "/w/"
	l.end = rangeEnd(l.prefix)
	s := &etcdSemaphore{l: l, limit: limit, limitKey: l.root + "/limit", limitVal: strconv.Itoa(limit)}
	if err := s.recordLimit(ctx); err != nil {
		_ = s.Close(ctx)
		return nil, err
	}
	return s, nil
}

// recordLimit writes the limit record if there is none, else checks that
// it agrees with the instance's limit. It reads first, so that opening a
// semaphore whose limit is recorded needs no write permission (etcd checks
// a transaction's permissions on both branches).
func (s *etcdSemaphore) recordLimit(ctx context.Context) error {
	got, err := s.l.get(ctx, s.limitKey)
	if err != nil {
		return err
	}
	if len(got.Kvs) > 0 {
		return s.checkLimit(got.Kvs)
	}
	resp, err := s.l.txn(ctx, write,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(s.limitKey), "=", 0)},
		[]clientv3.Op{clientv3.OpPut(s.limitKey, s.limitVal)},
		[]clientv3.Op{clientv3.OpGet(s.limitKey)})
	if err != nil || resp.Succeeded {
		return err
	}
	return s.checkLimit(rangeResp(resp, 0))
}

// checkLimit compares the limit record read as kvs with the instance's
// limit: ErrConflict if they differ, nil if they agree or there is none.
func (s *etcdSemaphore) checkLimit(kvs []*mvccKV) error {
	if len(kvs) == 0 || string(kvs[0].Value) == s.limitVal {
		return nil
	}
	return driver.Errorf(driver.ErrConflict, "the semaphore has a limit of %s, not %d", kvs[0].Value, s.limit)
}

// begin starts an attempt by owner for permits: the lock's attempt, whose
// token (the key's value) also carries the permits.
func (s *etcdSemaphore) begin(ds driver.Session, owner string, permits int) (*attempt, error) {
	if permits < 1 || permits > s.limit {
		return nil, driver.Errorf(driver.ErrInvalid, "%d permits of a semaphore of %d", permits, s.limit)
	}
	a, err := s.l.begin(ds, owner)
	if err != nil {
		return nil, err
	}
	a.token = strconv.Itoa(permits) + "/" + a.token
	return a, nil
}

// Acquire enqueues the owner's key and waits until the permits of the keys
// ahead of it and its own fit in the limit. If ctx ends, the session ends
// or the semaphore is closed first, the key is removed (see
// attempt.abandon).
func (s *etcdSemaphore) Acquire(ctx context.Context, ds driver.Session, owner string, permits int) (driver.Hold, error) {
	a, err := s.begin(ds, owner, permits)
	if err != nil {
		return driver.Hold{}, err
	}
	// Closing the semaphore or its driver ends the wait too.
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.l.ctx, cancel)()

	ahead, err := s.enqueue(actx, a)
	if err == nil {
		err = s.waitTurn(actx, a, permits, ahead)
	}
	if err != nil {
		return driver.Hold{}, a.abandon(ctx, err)
	}
	return a.hold()
}

// TryAcquire enqueues the owner's key and keeps it only if its permits fit
// at once behind the keys ahead of it (so never while anyone waits);
// otherwise it removes the key again. A concurrent acquisition may see the
// key for that moment and wait for its removal.
func (s *etcdSemaphore) TryAcquire(ctx context.Context, ds driver.Session, owner string, permits int) (driver.Hold, bool, error) {
	a, err := s.begin(ds, owner, permits)
	if err != nil {
		return driver.Hold{}, false, err
	}
	ahead, err := s.enqueue(ctx, a)
	if err != nil {
		return driver.Hold{}, false, a.abandon(ctx, err)
	}
	if s.fits(ahead, permits) {
		h, err := a.hold()
		return h, err == nil, err
	}
	if !a.remove() {
		// The removal goes on in the background; until it is confirmed
		// the key waits in the queue like an abandoned Acquire's.
		return driver.Hold{}, false, driver.Errorf(driver.ErrUnavailable, "the permits were not free, and removing the attempt is not confirmed yet")
	}
	return driver.Hold{}, false, nil
}

// enqueue creates the attempt's key at the end of the queue, recording its
// create revision, and returns the keys ahead of it, the earliest first, in
// the same transaction that checks the limit record. A key of the owner's
// that is still there (see attempt.enqueue) is deleted and the key created
// anew; a limit record that is missing is written again.
func (s *etcdSemaphore) enqueue(ctx context.Context, a *attempt) ([]*mvccKV, error) {
	l := s.l
	for {
		resp, err := l.txn(ctx, write,
			[]clientv3.Cmp{
				clientv3.Compare(clientv3.Value(s.limitKey), "=", s.limitVal),
				clientv3.Compare(clientv3.CreateRevision(a.key), "=", 0),
			},
			[]clientv3.Op{
				clientv3.OpPut(a.key, a.token, clientv3.WithLease(a.s.lease)),
				clientv3.OpGet(l.prefix, clientv3.WithRange(l.end),
					clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend)),
			},
			[]clientv3.Op{clientv3.OpGet(s.limitKey), clientv3.OpGet(a.key, clientv3.WithKeysOnly())})
		if err != nil {
			return nil, err
		}
		if resp.Succeeded {
			a.rev = resp.Header.Revision
			kvs := rangeResp(resp, 1)
			return kvs[:len(kvs)-1], nil // the last key is ours
		}
		limit := rangeResp(resp, 0)
		if err := s.checkLimit(limit); err != nil {
			return nil, err
		}
		if len(limit) == 0 {
			if err := s.recordLimit(ctx); err != nil {
				return nil, err
			}
		}
		if left := rangeResp(resp, 1); len(left) > 0 {
			if _, err := l.deleteIf(ctx, a.key, left[0].CreateRevision); err != nil {
				return nil, err
			}
		}
	}
}

// fits reports whether permits fit in the limit behind the keys ahead.
func (s *etcdSemaphore) fits(ahead []*mvccKV, permits int) bool {
	sum := permits
	for _, kv := range ahead {
		sum += permitsOf(kv)
	}
	return sum <= s.limit
}

// permitsOf reads the permits of a waiter key from its value; a value this
// driver did not write counts as one permit.
func permitsOf(kv *mvccKV) int {
	n, err := strconv.Atoi(strings.SplitN(string(kv.Value), "/", 2)[0])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// waitTurn waits until the permits of the keys ahead of the attempt's, and
// its own, fit in the limit, watching the queue for deletions.
func (s *etcdSemaphore) waitTurn(ctx context.Context, a *attempt, permits int, ahead []*mvccKV) error {
	l := s.l
	from := a.rev + 1
	for {
		waiting := make(map[string]int, len(ahead)) // key → permits
		sum := permits
		for _, kv := range ahead {
			n := permitsOf(kv)
			waiting[string(kv.Key)] = n
			sum += n
		}
		if sum <= s.limit {
			break
		}
		granted, err := s.watchAhead(ctx, a, from, waiting, sum)
		if err != nil {
			return err
		}
		if granted {
			break
		}
		// The watch broke: who is ahead now? (Also checks that our key
		// still exists.)
		resp, err := l.txn(ctx, read,
			[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(a.key), "=", a.rev)},
			[]clientv3.Op{clientv3.OpGet(l.prefix, clientv3.WithRange(l.end), clientv3.WithMaxCreateRev(a.rev-1))},
			nil)
		if err != nil {
			return err
		}
		if !resp.Succeeded {
			return errSessionEnded // only the lease's expiry deletes a waiter's key
		}
		ahead = rangeResp(resp, 0)
		from = resp.Header.Revision + 1
	}
	if !a.s.alive() {
		return errSessionEnded
	}
	return nil
}

// watchAhead watches the queue from revision from, taking the permits of
// each deleted key of waiting off sum, until sum fits in the limit (true),
// the watch breaks (false, nil), the attempt's own key is deleted, the
// session ends, or ctx ends.
func (s *etcdSemaphore) watchAhead(ctx context.Context, a *attempt, from int64, waiting map[string]int, sum int) (bool, error) {
	l := s.l
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wch := l.d.client.Watch(clientv3.WithRequireLeader(wctx), l.prefix,
		clientv3.WithRange(l.end), clientv3.WithRev(from), clientv3.WithFilterPut())
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
				if ev.Type != clientv3.EventTypeDelete {
					continue
				}
				key := string(ev.Kv.Key)
				if key == a.key {
					return false, errSessionEnded
				}
				if n, ok := waiting[key]; ok {
					delete(waiting, key)
					sum -= n
				}
			}
			if sum <= s.limit {
				return true, nil
			}
		case <-a.s.Done():
			return false, errSessionEnded
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// Release deletes the owner's key if it is the one created at version.
func (s *etcdSemaphore) Release(ctx context.Context, owner string, version uint64) (bool, error) {
	return s.l.deleteIf(ctx, s.l.prefix+owner, int64(version))
}

// Available reads the queue and returns the limit minus the permits of its
// holders, the longest prefix whose permits fit in the limit.
func (s *etcdSemaphore) Available(ctx context.Context) (int, error) {
	resp, err := s.l.get(ctx, s.l.prefix, clientv3.WithRange(s.l.end),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		return 0, err
	}
	held := 0
	for _, kv := range resp.Kvs {
		n := permitsOf(kv)
		if held+n > s.limit {
			break
		}
		held += n
	}
	return s.limit - held, nil
}

// Close ends the semaphore's watches; it changes nothing on the backend.
func (s *etcdSemaphore) Close(ctx context.Context) error { return s.l.Close(ctx) }
