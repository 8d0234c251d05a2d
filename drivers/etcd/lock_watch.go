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
		_ = l.awaitGone(l.ctx, a.s, a.key, a.rev, a.rev+1)
	})
	if !watching {
		a.remove()
		return driver.Hold{}, l.check()
	}
	return driver.Hold{Version: uint64(a.rev), Gone: gone}, nil
}

// awaitGone waits until the incarnation of key created at revision created
// is deleted, watching from revision from; or until the session ends
// (errSessionEnded) or ctx ends. It needs the deletion only, so it filters
// out puts.
func (l *etcdLock) awaitGone(ctx context.Context, s *session, key string, created, from int64) error {
	for {
		wctx, cancel := context.WithCancel(ctx)
		wch := l.d.client.Watch(clientv3.WithRequireLeader(wctx), key, clientv3.WithRev(from), clientv3.WithFilterPut())
		deleted, err := waitDeleteEvent(ctx, s, wch)
		cancel()
		if deleted || err != nil {
			return err
		}
		// The watch broke (compaction, leader loss): look at the key.
		resp, err := l.get(ctx, key, clientv3.WithKeysOnly())
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, driver.ErrClosed) {
				return err
			}
			if !sleepCtx(ctx, 100*time.Millisecond) {
				return ctx.Err()
			}
			continue
		}
		if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != created {
			return nil
		}
		from = resp.Header.Revision + 1
	}
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
