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
func (a *attempt) hold() (driver.Hold, error) {
	gone := make(chan struct{})
	l := a.l
	watching := l.spawn(func() {
		defer close(gone)
		_ = l.awaitGone(l.ctx, a.s, a.key, a.rev, a.rev)
	})
	if !watching {
		a.remove()
		return driver.Hold{}, l.check()
	}
	return driver.Hold{Version: uint64(a.rev), Gone: gone}, nil
}

// awaitGone waits until the incarnation of key created at revision created
// is deleted, knowing that it still existed at revision seen (0 when that
// is not known); or until the session ends (errSessionEnded) or ctx ends.
// It needs the deletion only, so it filters out puts.
//
// The watch starts at the server's current revision, never at an earlier
// one: etcd serves a watch whose start revision is already past from its
// "unsynced" group, which it catches up only every 100 ms, so watching from
// seen+1 would stall every lock handoff behind a write that came in the
// meantime by up to 100 ms. The watch's created notification carries the
// revision it starts after; when that is seen, nothing can have been
// missed, otherwise one read of the key covers the revisions in between.
// A hold's own watch (see hold) is set up the same way: watches from past
// revisions also cost the server, which re-reads their ranges every
// 100 ms until they catch up, and slowed handoffs measurably.
func (l *etcdLock) awaitGone(ctx context.Context, s *session, key string, created, seen int64) error {
	for {
		wctx, cancel := context.WithCancel(ctx)
		wch := l.d.client.Watch(clientv3.WithRequireLeader(wctx), key, clientv3.WithFilterPut(), clientv3.WithCreatedNotify())
		gone, err := l.watchGone(ctx, s, wch, key, created, seen)
		cancel()
		if gone || err != nil {
			return err
		}
		// The watch broke (leader loss, a lost stream) or the read in
		// between failed: watch again, and read the key again.
		seen = 0
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// watchGone reads wch, a watch on key created with WithCreatedNotify, and
// reports whether the incarnation created at revision created is gone (see
// awaitGone). It returns false and no error when the watch ends or the read
// of the key fails for a reason worth retrying.
func (l *etcdLock) watchGone(ctx context.Context, s *session, wch clientv3.WatchChan, key string, created, seen int64) (bool, error) {
	var start int64
	select {
	case resp, ok := <-wch:
		if !ok || resp.Canceled || resp.Err() != nil || !resp.Created {
			return false, ctx.Err()
		}
		start = resp.Header.Revision
	case <-s.Done():
		return false, errSessionEnded
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if start != seen {
		resp, err := l.get(ctx, key, clientv3.WithKeysOnly())
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, driver.ErrClosed) {
				return false, err
			}
			return false, nil
		}
		if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != created {
			return true, nil
		}
	}
	if l.watching != nil {
		l.watching(key)
	}
	return waitDeleteEvent(ctx, s, wch)
}

// waitDeleteEvent reads wch until a delete event (true), the watch ends
// (false, nil), the session ends or ctx ends (false, error).
func waitDeleteEvent(ctx context.Context, s *session, wch clientv3.WatchChan) (bool, error) {
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
		case <-s.Done():
			return false, errSessionEnded
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
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
