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

// holdWatch is a lock handle's one watch of the deletions in its queue,
// which tells every hold of the handle when its key goes: a hold registers
// its key (a holdWaiter) and the watch wakes it on each deletion of that
// key. It is started by the first registration and kept open, across
// holds, until the handle is closed: a watch per hold costs a watch
// request and its cancellation on every acquisition. It is the handle's
// shared machinery, not per-owner state: a registration lasts only as long
// as an Acquire or a hold.
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
	mu      sync.Mutex
	started bool
	live    bool  // the watch is created and not broken
	last    int64 // while live, a revision after which no deletion has been dispatched yet
	waiters map[string][]*holdWaiter
}

// holdWaiter is one registration with a holdWatch. Its fields but key and
// wake are guarded by the holdWatch's mu.
type holdWaiter struct {
	key     string
	wake    chan struct{} // gets a value whenever from or deleted changes
	from    int64         // every deletion after from is delivered; 0 while the watch is not live
	deleted int64         // the revision of the latest deletion of key delivered
	hooked  bool          // watching was called for it
}

// register adds a waiter for key, and starts the handle's watch if it is
// not yet. A waiter registered before its key is created misses none of
// its deletions.
func (l *etcdLock) register(key string) *holdWaiter {
	w := &holdWaiter{key: key, wake: make(chan struct{}, 1)}
	hw := &l.holds
	hw.mu.Lock()
	if hw.waiters == nil {
		hw.waiters = make(map[string][]*holdWaiter)
	}
	hw.waiters[key] = append(hw.waiters[key], w)
	if hw.live {
		w.from, w.hooked = hw.last, true
	}
	hook := w.hooked
	start := !hw.started
	hw.started = true
	hw.mu.Unlock()
	if start {
		// Once the handle is closed no hold waits any more.
		l.spawn(l.runHoldWatch)
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
	ws := slices.DeleteFunc(hw.waiters[w.key], func(x *holdWaiter) bool { return x == w })
	if len(ws) == 0 {
		delete(hw.waiters, w.key)
	} else {
		hw.waiters[w.key] = ws
	}
}

// runHoldWatch runs the handle's watch until the handle is closed, making
// it again whenever it breaks.
func (l *etcdLock) runHoldWatch() {
	l.d.keepWatchStream()
	for {
		ctx, cancel := context.WithCancel(l.ctx)
		wch := l.d.client.Watch(clientv3.WithRequireLeader(ctx), l.prefix, clientv3.WithRange(l.end),
			clientv3.WithFilterPut(), clientv3.WithCreatedNotify())
		for resp := range wch {
			if resp.Canceled || resp.Err() != nil {
				break
			}
			l.dispatch(resp)
		}
		cancel()
		l.holds.broken()
		if !sleepCtx(l.ctx, 10*time.Millisecond) {
			return
		}
	}
}

// dispatch hands one watch response to the waiters.
func (l *etcdLock) dispatch(resp clientv3.WatchResponse) {
	hw := &l.holds
	var hooks []string
	hw.mu.Lock()
	if resp.Created {
		hw.live, hw.last = true, resp.Header.Revision
		for _, ws := range hw.waiters {
			for _, w := range ws {
				w.from = hw.last
				if !w.hooked {
					w.hooked = true
					hooks = append(hooks, w.key)
				}
				w.notify()
			}
		}
	}
	for _, ev := range resp.Events {
		if ev.Type != clientv3.EventTypeDelete {
			continue
		}
		for _, w := range hw.waiters[string(ev.Kv.Key)] {
			w.deleted = ev.Kv.ModRevision
			w.notify()
		}
		hw.last = max(hw.last, ev.Kv.ModRevision)
	}
	hw.mu.Unlock()
	if l.watching != nil {
		for _, key := range hooks {
			l.watching(key)
		}
	}
}

// broken records that the watch ended: every waiter must wait for the next
// one and check its key again.
func (hw *holdWatch) broken() {
	hw.mu.Lock()
	defer hw.mu.Unlock()
	hw.live = false
	for _, ws := range hw.waiters {
		for _, w := range ws {
			w.from = 0
			w.notify()
		}
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
				if !sleepCtx(l.ctx, 10*time.Millisecond) {
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
