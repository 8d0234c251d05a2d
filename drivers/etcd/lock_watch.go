package etcd

import (
	"context"
	"errors"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// hold turns an attempt whose key reached the head of the queue into a
// driver.Hold. Its Gone channel is closed by a goroutine that waits, through
// the handle's watch (see holdWatch), for the key's deletion (a release,
// ReleaseVersion, the lease's expiry), for the end of the session, or for
// the lock or the driver to be closed (after which the portable layer no
// longer asks), whichever comes first. The key's registration is the
// attempt's own (see watchOwn) when Acquire made one before enqueueing the
// key, else one made now.
func (a *attempt) hold() (driver.Hold, error) {
	gone := make(chan struct{})
	l := a.l
	w := a.own
	if w == nil {
		w = l.register(a.key)
	}
	watching := l.spawn(func() {
		defer close(gone)
		l.awaitHold(a.s, w, a.rev, a.seen)
	})
	if !watching {
		l.unregister(w)
		a.own = nil
		a.remove()
		return driver.Hold{}, l.check()
	}
	return driver.Hold{Version: uint64(a.rev), Gone: gone}, nil
}

// watchKey starts a watch of key's deletions, from the server's current
// revision, that ends with ctx.
func (l *etcdLock) watchKey(ctx context.Context, key string) clientv3.WatchChan {
	l.d.keepWatchStream()
	return l.d.client.Watch(clientv3.WithRequireLeader(ctx), key, clientv3.WithFilterPut(), clientv3.WithCreatedNotify())
}

// watchOwn registers the attempt's own key with the handle's watch, for
// its hold, before the key is enqueued: the watch then delivers every
// later deletion of the key, and the hold needs no read of the key to know
// it was not missed (see holdWatch). A contended lock saves one request
// per acquisition so.
func (a *attempt) watchOwn() {
	a.own = a.l.register(a.key)
}

// dropOwn ends the registration of watchOwn, if any.
func (a *attempt) dropOwn() {
	if a.own != nil {
		a.l.unregister(a.own)
		a.own = nil
	}
}

// awaitGone waits until the incarnation of key created at revision created
// is deleted, knowing that it still existed at revision seen (0 when that
// is not known), and returns a revision at which it was gone; or until the
// session ends (errSessionEnded) or ctx ends. It needs the deletion only,
// so it filters out puts.
//
// A watch it makes starts at the server's current revision, never at an
// earlier one: etcd serves a watch whose start revision is already past
// from its "unsynced" group, which it catches up only every 100 ms, so
// watching from seen+1 would stall every lock handoff behind a write that
// came in the meantime by up to 100 ms. The watch's created notification
// carries the revision it starts after; when that is not after seen,
// nothing can have been missed, otherwise one read of the key covers the
// revisions in between. The handle's watch of its holds follows the same
// rule (see holdWatch): watches from past revisions also cost the server,
// which re-reads their ranges every 100 ms until they catch up, and slowed
// handoffs measurably.
func (l *etcdLock) awaitGone(ctx context.Context, s *session, key string, created, seen int64) (int64, error) {
	for {
		wctx, cancel := context.WithCancel(ctx)
		gone, err := l.watchGone(ctx, s, l.watchKey(wctx, key), key, created, seen)
		cancel()
		if gone != 0 || err != nil {
			return gone, err
		}
		// The watch broke (leader loss, a lost stream) or the read in
		// between failed: watch again, and read the key again.
		seen = 0
		if !driver.Sleep(ctx, 10*time.Millisecond) {
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
				if !driver.Sleep(d.ctx, time.Second) {
					return
				}
			}
		})
	})
}
