package consul

import (
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/lease"
)

// session is a Consul session with a TTL, kept alive by a lease.Keeper.
//
// It is created with Behavior "delete" and LockDelay 0: when it ends
// (destroyed by Close, or invalidated by the servers because it was not
// renewed) Consul deletes every key it holds, at once. Lock keys and
// election candidate keys are held by the session, so its end releases the
// lock (a lock is free exactly when its key is absent) and removes the
// candidacy, and the next waiter may take the lock immediately (no lock
// delay).
//
// Consul enforces a TTL of at least its session_ttl_min (10s by default);
// shorter TTLs are rounded up to Options.MinSessionTTL. Consul invalidates
// a session only after twice its TTL without renewal, so a crashed holder
// keeps its locks for between TTL and 2×TTL. The keeper's deadline is one
// TTL after the last successful renewal was sent: Done closes before the
// servers can give a lock to anyone else.
type session struct {
	d      *Driver
	id     string
	keeper *lease.Keeper

	// ctx ends when Done closes or the driver is closed: what is bound to
	// the session (a lock wait, a hold's watcher) runs under it.
	ctx    context.Context
	cancel context.CancelFunc

	destroyOnce sync.Once
}

var _ driver.Session = (*session)(nil)

// sessionCreate is the body of /v1/session/create. The API package's
// SessionEntry cannot express a zero lock delay (it omits it, and the agent
// then defaults to 15s).
type sessionCreate struct {
	Name      string
	TTL       string
	Behavior  string
	LockDelay string
}

// NewSession creates a session with opts.TTL (15 s if zero, rounded up to
// Options.MinSessionTTL; more than 24h is ErrInvalid)
// and starts renewing it.
func (d *Driver) NewSession(ctx context.Context, opts driver.SessionOptions) (driver.Session, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	ttl := max(cmp.Or(opts.TTL, defaultSessionTTL), d.opts.MinSessionTTL)
	if ttl > maxSessionTTL {
		return nil, driver.Errorf(driver.ErrInvalid, "session TTL %v is above Consul's limit of %v", opts.TTL, maxSessionTTL)
	}
	body := sessionCreate{
		Name:      "atomix",
		TTL:       ttl.String(),
		Behavior:  api.SessionBehaviorDelete,
		LockDelay: "0s",
	}
	var out struct{ ID string }
	sent := time.Now()
	if _, err := d.client.Raw().Write("/v1/session/create", body, &out, write(ctx)); err != nil {
		return nil, classify(ctx, err, writing)
	}
	s := &session{d: d, id: out.ID}
	s.keeper = lease.Start(sent, ttl, s.renew, lease.OnRenew(func(err error) { d.Observer().SessionRenewed(s.id, err) }))
	s.ctx, s.cancel = context.WithCancel(d.ctx)
	go func() {
		select {
		case <-s.keeper.Done():
			s.cancel()
		case <-s.ctx.Done():
		}
	}()
	d.track(s)
	if d.closed.Load() { // closed while we were creating it
		s.destroy(context.WithoutCancel(ctx))
		return nil, errClosed
	}
	return s, nil
}

// renew sends one renewal; Consul answers no entry for a session it no
// longer knows (it has then deleted the session's keys).
func (s *session) renew(ctx context.Context) (time.Duration, error) {
	entry, _, err := s.d.client.Session().Renew(s.id, write(ctx))
	switch {
	case err != nil:
		return 0, err
	case entry == nil:
		return 0, lease.ErrGone
	}
	ttl, _ := time.ParseDuration(entry.TTL) // 0 keeps the previous TTL
	return ttl, nil
}

// ID returns Consul's session ID.
func (s *session) ID() string { return s.id }

// Done is closed when the session has ended: closed, invalidated by Consul,
// or not renewed for a whole TTL.
func (s *session) Done() <-chan struct{} { return s.keeper.Done() }

// Cause says why the session ended (see lease.Keeper.Cause); nil while it
// lives.
func (s *session) Cause() error { return s.keeper.Cause() }

// Close destroys the session; Consul deletes every key it holds. A second
// Close returns nil.
func (s *session) Close(ctx context.Context) error {
	return s.destroy(ctx)
}

// destroy stops renewing and destroys the session on the agent. If the
// agent cannot be reached the session still ends here, and Consul ends it
// after its TTL.
func (s *session) destroy(ctx context.Context) error {
	var err error
	s.destroyOnce.Do(func() {
		s.end()
		defer s.d.untrack(s)
		if _, derr := s.d.client.Session().Destroy(s.id, write(ctx)); derr != nil {
			err = classify(ctx, derr, writing)
		}
	})
	return err
}

// end stops renewing without destroying: Done closes, and Consul deletes
// the session's keys when it expires it. It is what the driver does when
// Consul says the session is invalid, and, for every session, when the
// process is made to vanish (Driver.crash).
func (s *session) end() {
	s.keeper.Stop()
	s.cancel()
}

// sessionOf returns s as a live session: ErrInvalid for a session of
// another driver type, ErrClosed for one that ended.
func (d *Driver) sessionOf(s driver.Session) (*session, error) {
	cs, ok := s.(*session)
	if !ok {
		return nil, driver.Errorf(driver.ErrInvalid, "not a Consul session")
	}
	select {
	case <-cs.keeper.Done():
		return nil, errSessionEnded
	default:
		return cs, nil
	}
}
