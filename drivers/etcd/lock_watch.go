package etcd

import (
	"context"
	"errors"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// hold turns an attempt whose key reached the head of the queue into a
// driver.Hold. Its Gone channel is closed by a goroutine that watches the
// key: when the key is deleted (a release, ReleaseVersion, the lease's
// expiry), when the session ends, or when the lock or the driver is closed
// (after which the portable layer no longer asks), whichever comes first.
// The watch is the attempt's own (see watchOwn) when Acquire started one
// before enqueueing the key, else one started now.
func (a *attempt) hold() (driver.Hold, error) {
	gone := make(chan struct{})
	l := a.l
	own := a.own
	watching := l.spawn(func() {
		defer close(gone)
		var w keyWatch
		if own != nil {
			w = <-own
		}
		_, _ = l.awaitGone(l.ctx, a.s, w, a.key, a.rev, a.seen)
	})
	if !watching {
		a.dropOwn()
		a.remove()
		return driver.Hold{}, l.check()
	}
	return driver.Hold{Version: uint64(a.rev), Gone: gone}, nil
}

// keyWatch is a watch of one key's deletions, as awaitGone makes it.
type keyWatch struct {
	ch     clientv3.WatchChan
	cancel context.CancelFunc
}

// watchKey starts a watch of key's deletions, from the server's current
// revision, that ends with ctx or stop.
func (l *etcdLock) watchKey(ctx context.Context, key string) keyWatch {
	l.d.keepWatchStream()
	wctx, cancel := context.WithCancel(ctx)
	wch := l.d.client.Watch(clientv3.WithRequireLeader(wctx), key, clientv3.WithFilterPut(), clientv3.WithCreatedNotify())
	return keyWatch{ch: wch, cancel: cancel}
}

// stop ends the watch, if there is one.
func (w keyWatch) stop() {
	if w.cancel != nil {
		w.cancel()
	}
}

// watchOwn starts the watch of the attempt's own key that its hold will
// use, before the key is enqueued: the server then registers the watch,
// most often, at a revision before the key's creation, so that it sees
// every later deletion and the hold needs no read of the key to know it
// was not missed (see watchGone). A contended lock saves one request per
// acquisition so. clientv3's Watch returns only once the server has
// registered the watch, so it is made in the background: Acquire does not
// wait for it, the hold's goroutine does.
func (a *attempt) watchOwn() {
	own := make(chan keyWatch, 1)
	l := a.l
	if l.spawn(func() {
		own <- l.watchKey(l.ctx, a.key)
		if l.watching != nil {
			l.watching(a.key)
		}
	}) {
		a.own = own
	}
}

// dropOwn ends the watch of watchOwn, if any, once it is made.
func (a *attempt) dropOwn() {
	if own := a.own; own != nil {
		a.own = nil
		// If the lock is closed, the watch ends with it.
		a.l.spawn(func() { (<-own).stop() })
	}
}

// awaitGone waits until the incarnation of key created at revision created
// is deleted, knowing that it still existed at revision seen (0 when that
// is not known), and returns a revision at which it was gone; or until the
// session ends (errSessionEnded) or ctx ends. It needs the deletion only,
// so it filters out puts. It reads w first, if set (a watch of key made
// with watchKey under ctx), and ends it.
//
// A watch it makes starts at the server's current revision, never at an
// earlier one: etcd serves a watch whose start revision is already past
// from its "unsynced" group, which it catches up only every 100 ms, so
// watching from seen+1 would stall every lock handoff behind a write that
// came in the meantime by up to 100 ms. The watch's created notification
// carries the revision it starts after; when that is not after seen,
// nothing can have been missed, otherwise one read of the key covers the
// revisions in between. A hold's own watch is set up the same way, or
// before its key exists (see watchOwn): watches from past revisions also
// cost the server, which re-reads their ranges every 100 ms until they
// catch up, and slowed handoffs measurably.
func (l *etcdLock) awaitGone(ctx context.Context, s *session, w keyWatch, key string, created, seen int64) (int64, error) {
	for {
		if w.ch == nil {
			w = l.watchKey(ctx, key)
		}
		gone, err := l.watchGone(ctx, s, w.ch, key, created, seen)
		w.stop()
		if gone != 0 || err != nil {
			return gone, err
		}
		// The watch broke (leader loss, a lost stream) or the read in
		// between failed: watch again, and read the key again.
		w, seen = keyWatch{}, 0
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return 0, ctx.Err()
		}
	}
}

// watchGone reads wch, a watch on key created with WithCreatedNotify, and
// returns a revision at which the incarnation created at revision created
// is gone (see awaitGone). It returns 0 and no error when the watch ends or
// the read of the key fails for a reason worth retrying.
func (l *etcdLock) watchGone(ctx context.Context, s *session, wch clientv3.WatchChan, key string, created, seen int64) (int64, error) {
	var start int64
	select {
	case resp, ok := <-wch:
		if !ok || resp.Canceled || resp.Err() != nil || !resp.Created {
			return 0, ctx.Err()
		}
		start = resp.Header.Revision
	case <-s.Done():
		return 0, errSessionEnded
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if start > seen {
		resp, err := l.get(ctx, key, clientv3.WithKeysOnly())
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, driver.ErrClosed) {
				return 0, err
			}
			return 0, nil
		}
		if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != created {
			return resp.Header.Revision, nil
		}
	}
	if l.watching != nil {
		l.watching(key)
	}
	return waitDeleteEvent(ctx, s, wch, created)
}

// waitDeleteEvent reads wch until the event of a delete after revision
// created, and returns the delete's revision; or until the watch ends (0,
// nil), the session ends or ctx ends (0, error). A watch that started
// before the incarnation created at that revision also reports the
// deletion of earlier ones, which it skips.
func waitDeleteEvent(ctx context.Context, s *session, wch clientv3.WatchChan, created int64) (int64, error) {
	for {
		select {
		case resp, ok := <-wch:
			if !ok || resp.Canceled || resp.Err() != nil {
				if ctx.Err() != nil {
					return 0, ctx.Err()
				}
				return 0, nil
			}
			for _, ev := range resp.Events {
				if ev.Type == clientv3.EventTypeDelete && ev.Kv.ModRevision > created {
					return ev.Kv.ModRevision, nil
				}
			}
		case <-s.Done():
			return 0, errSessionEnded
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// keepWatchStream keeps one watch open on the gRPC stream that the
// driver's watches share (those made with clientv3.WithRequireLeader),
// until the driver is closed. clientv3 closes a watch stream when its last
// watch ends and opens a new one for the next watch: a lock taken and
// released in a loop, whose hold is its only watch, would otherwise pay for
// a new stream (and the server for its goroutines) on every acquisition.
// The watch is of the driver's prefix key with puts and deletes filtered
// out, so it never delivers an event; if the server ends it (no leader) it
// is made again.
func (d *Driver) keepWatchStream() {
	d.streamKept.Do(func() {
		d.spawn(func() {
			for {
				wch := d.client.Watch(clientv3.WithRequireLeader(d.ctx), d.prefix,
					clientv3.WithFilterPut(), clientv3.WithFilterDelete())
				for range wch {
				}
				if !sleepCtx(d.ctx, time.Second) {
					return
				}
			}
		})
	})
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
