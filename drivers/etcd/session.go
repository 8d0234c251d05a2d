package etcd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// session is a driver.Session backed by one etcd lease. Every lock waiter
// and election candidate bound to the session is a key attached to the
// lease, so the cluster deletes them all when the lease expires.
//
// The driver renews the lease itself rather than with clientv3's KeepAlive,
// so that it knows a conservative deadline: the lease is valid at least
// until the time the last successful renewal was *sent* plus the TTL the
// server granted. Done closes at that deadline if no renewal succeeded in
// the meantime, which is never later than the moment the cluster expires
// the lease: a lock holder learns that it lost the lock no later than the
// next owner can get it.
type session struct {
	d     *Driver
	lease clientv3.LeaseID
	ttl   time.Duration // as granted by the server
	idStr string

	stop     context.CancelFunc // ends the renewal loop
	done     chan struct{}
	doneOnce sync.Once
	ended    chan struct{} // closed when the renewal loop has returned
}

var _ driver.Session = (*session)(nil)

// NewSession grants a lease and keeps it alive until the session is closed.
// The TTL is rounded up to whole seconds (etcd's lease granularity), and the
// server raises it to its own minimum, 1.5 election timeouts rounded up to a
// second (2 s with etcd's default settings): a smaller TTL is accepted but
// the session then lives that long. A zero TTL means Config.SessionTTL.
func (d *Driver) NewSession(ctx context.Context, opts driver.SessionOptions) (driver.Session, error) {
	const op = "new session"
	if err := d.checkOpen(op); err != nil {
		return nil, err
	}
	ttl := opts.TTL
	if ttl < 0 {
		return nil, errorf(op, driver.ErrInvalid, "negative TTL %v", ttl)
	}
	if ttl == 0 {
		ttl = d.sessionTTL
	}
	seconds := int64(math.Ceil(ttl.Seconds()))
	if seconds > clientv3.MaxLeaseTTL {
		return nil, errorf(op, driver.ErrInvalid, "TTL %v is over etcd's maximum", ttl)
	}
	sent := time.Now()
	resp, err := d.client.Grant(ctx, seconds)
	if err != nil {
		return nil, d.classify(ctx, op, write, err)
	}
	s := &session{
		d:     d,
		lease: resp.ID,
		ttl:   time.Duration(resp.TTL) * time.Second,
		idStr: strconv.FormatInt(int64(resp.ID), 16),
		done:  make(chan struct{}),
		ended: make(chan struct{}),
	}
	loopCtx, stop := context.WithCancel(d.ctx)
	s.stop = stop
	d.mu.Lock()
	if d.closed.Load() {
		d.mu.Unlock()
		stop()
		// Best effort: the driver closed while the lease was granted.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		_, _ = d.client.Revoke(rctx, resp.ID)
		cancel()
		return nil, errorf(op, driver.ErrClosed, "driver closed")
	}
	d.sessions[s] = struct{}{}
	d.wg.Add(1)
	d.mu.Unlock()
	go func() {
		defer d.wg.Done()
		defer close(s.ended)
		s.keepAlive(loopCtx, sent.Add(s.ttl))
		s.markDone()
	}()
	return s, nil
}

// ID returns the lease ID in hexadecimal, as etcdctl prints it.
func (s *session) ID() string { return s.idStr }

// Done is closed when the session ends: closed, expired, or its renewal
// failed until the deadline passed.
func (s *session) Done() <-chan struct{} { return s.done }

func (s *session) markDone() { s.doneOnce.Do(func() { close(s.done) }) }

// alive reports whether the session has not ended.
func (s *session) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Close revokes the lease, which deletes every key bound to it at once.
func (s *session) Close(ctx context.Context) error { return s.end(ctx, true) }

// end stops renewing the lease and, if revoke is set, revokes it. A lease
// that already expired is not an error.
func (s *session) end(ctx context.Context, revoke bool) error {
	s.d.mu.Lock()
	_, registered := s.d.sessions[s]
	delete(s.d.sessions, s)
	s.d.mu.Unlock()
	s.stop()
	<-s.ended
	s.markDone()
	if !registered || !revoke {
		return nil
	}
	if _, err := s.d.client.Revoke(ctx, s.lease); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return s.d.classify(ctx, "close session", write, err)
	}
	return nil
}

// keepAlive renews the lease every third of its TTL until ctx ends, the
// lease is gone, or deadline passes without a successful renewal.
func (s *session) keepAlive(ctx context.Context, deadline time.Time) {
	expiry := time.NewTimer(time.Until(deadline))
	defer expiry.Stop()
	renew := time.NewTimer(s.ttl / 3)
	defer renew.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-expiry.C:
			return
		case <-renew.C:
		}
		sent := time.Now()
		rctx, cancel := context.WithDeadline(ctx, deadline)
		resp, err := s.d.client.KeepAliveOnce(rctx, s.lease)
		cancel()
		switch {
		case err == nil && resp.TTL > 0:
			deadline = sent.Add(time.Duration(resp.TTL) * time.Second)
			expiry.Reset(time.Until(deadline))
			renew.Reset(time.Duration(resp.TTL) * time.Second / 3)
		case err == nil || errors.Is(err, rpctypes.ErrLeaseNotFound):
			return // the lease is gone
		default:
			// KeepAliveOnce retries transient failures until rctx ends,
			// so an error here is the deadline, ctx, or a halting error.
			if ctx.Err() != nil || !time.Now().Before(deadline) {
				return
			}
			renew.Reset(retryDelay(s.ttl))
		}
	}
}

func retryDelay(ttl time.Duration) time.Duration {
	d := ttl / 10
	if d > 500*time.Millisecond {
		d = 500 * time.Millisecond
	}
	return d
}

// sessionOf returns the etcd session behind s, or ErrInvalid for a session
// from another driver, or ErrClosed for a session that ended.
func (d *Driver) sessionOf(op string, s driver.Session) (*session, error) {
	es, ok := s.(*session)
	if !ok || es.d != d {
		return nil, fmt.Errorf("etcd: %s: %w: session %T was not created by this driver", op, driver.ErrInvalid, s)
	}
	if !es.alive() {
		return nil, errorf(op, driver.ErrClosed, "session %s ended", es.idStr)
	}
	return es, nil
}
