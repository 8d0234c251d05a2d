package etcd

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/lease"
)

// session is a driver.Session backed by one etcd lease. Every lock waiter
// and election candidate bound to the session is a key attached to the
// lease, so the cluster deletes them all when the lease expires.
//
// The lease is renewed by a lease.Keeper with one KeepAliveOnce per
// renewal (not clientv3's KeepAlive stream), so that Done follows the
// keeper's deadline rule: it closes no later than the cluster expires the
// lease.
type session struct {
	d     *Driver
	lease clientv3.LeaseID
	ttl   time.Duration // as granted by the server
	idStr string
	keep  *lease.Keeper
}

var _ driver.Session = (*session)(nil)

// NewSession grants a lease and keeps it alive until the session is closed.
// The TTL is rounded up to whole seconds (etcd's lease granularity), and the
// server raises it to its own minimum, 1.5 election timeouts rounded up to a
// second (2 s with etcd's default settings): a smaller TTL is accepted but
// the session then lives that long. A zero TTL means Config.SessionTTL.
func (d *Driver) NewSession(ctx context.Context, opts driver.SessionOptions) (driver.Session, error) {
	if d.closed.Load() {
		return nil, errDriverClosed
	}
	ttl := opts.TTL
	if ttl == 0 {
		ttl = DefaultSessionTTL
	}
	seconds := int64(math.Ceil(ttl.Seconds()))
	if seconds <= 0 || seconds > clientv3.MaxLeaseTTL {
		return nil, driver.Errorf(driver.ErrInvalid, "TTL %v is outside etcd's range", ttl)
	}
	sent := time.Now()
	resp, err := d.client.Grant(ctx, seconds)
	if err != nil {
		return nil, d.classify(ctx, write, err)
	}
	s := &session{
		d:     d,
		lease: resp.ID,
		ttl:   time.Duration(resp.TTL) * time.Second,
		idStr: strconv.FormatInt(int64(resp.ID), 16),
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		// Best effort: the driver closed while the lease was granted.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		_, _ = d.client.Revoke(rctx, resp.ID)
		cancel()
		return nil, errDriverClosed
	}
	s.keep = lease.Start(sent, s.ttl, s.renew, lease.OnRenew(func(err error) { d.Observer().SessionRenewed(s.idStr, err) }))
	d.sessions[s] = struct{}{}
	return s, nil
}

// renew sends one renewal of the lease.
func (s *session) renew(ctx context.Context) (time.Duration, error) {
	resp, err := s.d.client.KeepAliveOnce(ctx, s.lease)
	switch {
	case errors.Is(err, rpctypes.ErrLeaseNotFound), err == nil && resp.TTL <= 0:
		return 0, lease.ErrGone
	case err != nil:
		return 0, err
	}
	return time.Duration(resp.TTL) * time.Second, nil
}

// ID returns the lease ID in hexadecimal, as etcdctl prints it.
func (s *session) ID() string { return s.idStr }

// Cause says why the session ended (see lease.Keeper.Cause); nil while it
// lives.
func (s *session) Cause() error { return s.keep.Cause() }

// Done is closed when the session ends: closed, expired, or its renewal
// failed until the deadline passed.
func (s *session) Done() <-chan struct{} { return s.keep.Done() }

// alive reports whether the session has not ended.
func (s *session) alive() bool {
	select {
	case <-s.keep.Done():
		return false
	default:
		return true
	}
}

// Close revokes the lease, which deletes every key bound to it at once. A
// second Close returns nil.
func (s *session) Close(ctx context.Context) error { return s.end(ctx, true) }

// end stops renewing the lease and, if revoke is set, revokes it. A lease
// that already expired is not an error.
func (s *session) end(ctx context.Context, revoke bool) error {
	s.d.mu.Lock()
	_, registered := s.d.sessions[s]
	delete(s.d.sessions, s)
	s.d.mu.Unlock()
	s.keep.Stop()
	if !registered || !revoke {
		return nil
	}
	if _, err := s.d.client.Revoke(ctx, s.lease); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return s.d.classify(ctx, write, err)
	}
	return nil
}

// sessionOf returns the etcd session behind s, or ErrInvalid for a session
// from another driver, or ErrClosed for a session that ended.
func (d *Driver) sessionOf(s driver.Session) (*session, error) {
	es, ok := s.(*session)
	if !ok || es.d != d {
		return nil, driver.Errorf(driver.ErrInvalid, "session %T was not created by this driver", s)
	}
	if !es.alive() {
		return nil, errSessionEnded
	}
	return es, nil
}

// errSessionEnded is the answer to a request made with, or waiting on, a
// session that has ended.
var errSessionEnded = &driver.Error{Kind: driver.ErrClosed, Detail: "the session has ended"}
