package etcd

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// holdWatch is a lock handle's watches of its holds' keys, which tell every
// hold when its key goes: a hold registers its key (a holdWaiter) and the
// watch of that key wakes it on each deletion. There is one watch per key
// name, started by the first registration and kept open across holds until
// no hold has used it for holdWatchIdle, or the handle is closed: a watch
// made and cancelled per hold costs a watch request and its cancellation
// on every acquisition, and an owner's key name is the same for all its
// attempts. A watch of the whole queue instead would deliver every
// deletion in the queue to every handle, which under contention costs
// each handoff one event per waiting handle.
//
// A watch never loses an event silently. Every waiter has the revision from
// which the watch delivers it every deletion (from); a hold that knows its
// key existed at a revision not before it needs no read, otherwise one
// read of the key covers the revisions in between (the catch-up rule of
// awaitGone). When the watch breaks (compaction, leader loss, a lost
// stream) every waiter's from is cleared and the waiters woken; when it is
// made again, from is set to the revision it starts after, and a hold
// whose key was last seen before that reads it again.
type holdWatch struct {
	mu   sync.Mutex
	keys map[string]*keyHolds
}

// holdWatchIdle is how long a key's watch stays open with no hold.
const holdWatchIdle = time.Second

// keyHolds is the watch of one key and its waiters, guarded by the
// holdWatch's mu.
type keyHolds struct {
	waiters []*holdWaiter
	live    bool          // the watch is created and not broken
	last    int64         // while live, a revision after which no deletion has been dispatched yet
	idle    chan struct{} // gets a value when waiters becomes empty
}

// holdWaiter is one registration with a holdWatch. Its fields but key, kh
// and wake are guarded by the holdWatch's mu.
type holdWaiter struct {
	key     string
	kh      *keyHolds
	wake    chan struct{} // gets a value whenever from or deleted changes
	from    int64         // every deletion after from is delivered; 0 while the watch is not live
	deleted int64         // the revision of the latest deletion of key delivered
	hooked  bool          // watching was called for it
}

// register adds a waiter for key, and starts the key's watch if it is not
// running. A waiter registered before its key is created misses none of
// its deletions.
func (l *etcdLock) register(key string) *holdWaiter {
	w := &holdWaiter{key: key, wake: make(chan struct{}, 1)}
	hw := &l.holds
	hw.mu.Lock()
	if hw.keys == nil {
		hw.keys = make(map[string]*keyHolds)
	}
	kh := hw.keys[key]
	start := kh == nil
	if start {
		kh = &keyHolds{idle: make(chan struct{}, 1)}
		hw.keys[key] = kh
	}
	w.kh = kh
	kh.waiters = append(kh.waiters, w)
	if kh.live {
		w.from, w.hooked = kh.last, true
	}
	hook := w.hooked
	hw.mu.Unlock()
	if start {
		// Once the handle is closed no hold waits any more.
		l.spawn(func() { l.runKeyWatch(key, kh) })
	}
	if hook && l.watching != nil {
		l.watching(key)
	}
	return w
}

// unregister removes w.
func (l *etcdLock) unregister(w *holdWaiter) {
	hw := &l.holds
	hw.mu.Lock()
	defer hw.mu.Unlock()
	kh := w.kh
	kh.waiters = slices.DeleteFunc(kh.waiters, func(x *holdWaiter) bool { return x == w })
	if len(kh.waiters) == 0 {
		select {
		case kh.idle <- struct{}{}:
		default:
		}
	}
}

// runKeyWatch runs the watch of key until the handle is closed or the key
// has had no waiter for holdWatchIdle, making it again whenever it breaks.
func (l *etcdLock) runKeyWatch(key string, kh *keyHolds) {
	hw := &l.holds
	defer func() {
		hw.mu.Lock()
		if hw.keys[key] == kh {
			delete(hw.keys, key)
		}
		hw.mu.Unlock()
	}()
	l.d.keepWatchStream()
	idle := time.NewTimer(holdWatchIdle)
	idle.Stop()
	defer idle.Stop()
	for {
		ctx, cancel := context.WithCancel(l.ctx)
		wch := l.d.client.Watch(clientv3.WithRequireLeader(ctx), key, clientv3.WithFilterPut(), clientv3.WithCreatedNotify())
	read:
		for {
			select {
			case resp, ok := <-wch:
				if !ok || resp.Canceled || resp.Err() != nil {
					break read
				}
				l.dispatch(kh, resp)
			case <-kh.idle:
				idle.Reset(holdWatchIdle)
			case <-idle.C:
				hw.mu.Lock()
				done := len(kh.waiters) == 0
				if done {
					// A later registration starts a new watch.
					delete(hw.keys, key)
				}
				hw.mu.Unlock()
				if done {
					cancel()
					return
				}
			}
		}
		cancel()
		hw.broken(kh)
		if !driver.Sleep(l.ctx, 10*time.Millisecond) {
			return
		}
	}
}

// dispatch hands one watch response of kh's key to its waiters.
func (l *etcdLock) dispatch(kh *keyHolds, resp clientv3.WatchResponse) {
	hw := &l.holds
	var hooks []string
	hw.mu.Lock()
	if resp.Created {
		kh.live, kh.last = true, resp.Header.Revision
		for _, w := range kh.waiters {
			w.from = kh.last
			if !w.hooked {
				w.hooked = true
				hooks = append(hooks, w.key)
			}
			w.notify()
		}
	}
	for _, ev := range resp.Events {
		if ev.Type != clientv3.EventTypeDelete {
			continue
		}
		for _, w := range kh.waiters {
			w.deleted = ev.Kv.ModRevision
			w.notify()
		}
		kh.last = max(kh.last, ev.Kv.ModRevision)
	}
	hw.mu.Unlock()
	if l.watching != nil {
		for _, key := range hooks {
			l.watching(key)
		}
	}
}

// broken records that kh's watch ended: every waiter must wait for the
// next one and check its key again.
func (hw *holdWatch) broken(kh *keyHolds) {
	hw.mu.Lock()
	defer hw.mu.Unlock()
	kh.live = false
	for _, w := range kh.waiters {
		w.from = 0
		w.notify()
	}
}

func (w *holdWaiter) notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// awaitHold waits until the incarnation of w's key created at revision
// created is deleted, knowing that it existed at revision seen, or until
// the session ends or the handle is closed; then it unregisters w.
func (l *etcdLock) awaitHold(s *session, w *holdWaiter, created, seen int64) {
	defer l.unregister(w)
	hooked := false
	for {
		l.holds.mu.Lock()
		deleted, from := w.deleted, w.from
		l.holds.mu.Unlock()
		if deleted > created {
			return
		}
		if from > seen {
			resp, err := l.get(l.ctx, w.key, clientv3.WithKeysOnly())
			switch {
			case err == nil && (len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != created):
				return
			case err == nil:
				seen = resp.Header.Revision
			case l.ctx.Err() != nil || errors.Is(err, driver.ErrClosed):
				return
			default:
				if !driver.Sleep(l.ctx, 10*time.Millisecond) {
					return
				}
				continue
			}
		}
		if from != 0 && !hooked && l.watching != nil {
			hooked = true
			l.watching(w.key)
		}
		select {
		case <-w.wake:
		case <-s.Done():
			return
		case <-l.ctx.Done():
			return
		}
	}
}
