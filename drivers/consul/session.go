package consul

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// session is a Consul session with a TTL, kept alive by a goroutine that
// renews it three times per TTL.
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
// keeps its locks for between TTL and 2×TTL. The holder side is
// conservative: when renewals have failed for a whole TTL, Done closes and
// the holder's lost-lock channels close, before the servers can give the
// lock to anyone else.
type session struct {
	d   *Driver
	id  string
	ttl time.Duration

	done    chan struct{}
	endOnce sync.Once

	// ctx ends the renewal loop (and a renewal in flight); stopped is
	// closed when the loop has returned.
	ctx     context.Context
	cancel  context.CancelFunc
	stopped chan struct{}

	destroyOnce sync.Once
	destroyErr  error
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

// NewSession creates a session with opts.TTL (Options.DefaultSessionTTL if
// zero, rounded up to Options.MinSessionTTL; more than 24h is ErrInvalid)
// and starts renewing it.
func (d *Driver) NewSession(ctx context.Context, opts driver.SessionOptions) (driver.Session, error) {
	if err := d.check("new session"); err != nil {
		return nil, err
	}
	ttl := opts.TTL
	if ttl == 0 {
		ttl = d.opts.DefaultSessionTTL
	}
	if ttl < d.opts.MinSessionTTL {
		ttl = d.opts.MinSessionTTL
	}
	if ttl > maxSessionTTL {
		return nil, fmt.Errorf("%w: consul: session TTL %v is above Consul's limit of %v", driver.ErrInvalid, opts.TTL, maxSessionTTL)
	}
	body := sessionCreate{
		Name:      "atomix",
		TTL:       ttl.String(),
		Behavior:  api.SessionBehaviorDelete,
		LockDelay: "0s",
	}
	var out struct{ ID string }
	if _, err := d.client.Raw().Write("/v1/session/create", body, &out, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
		return nil, classify(ctx, "create session", err, writing)
	}
	s := &session{
		d:       d,
		id:      out.ID,
		ttl:     ttl,
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(d.ctx)
	d.track(s)
	go s.renew()
	if d.closed.Load() { // closed while we were creating it
		s.destroy(context.WithoutCancel(ctx))
		return nil, errClosed("new session: driver closed")
	}
	return s, nil
}

// ID returns Consul's session ID.
func (s *session) ID() string { return s.id }

// Done is closed when the session has ended: closed, invalidated by Consul,
// or not renewed for a whole TTL.
func (s *session) Done() <-chan struct{} { return s.done }

// Close destroys the session; Consul deletes every key it holds.
func (s *session) Close(ctx context.Context) error {
	return s.destroy(ctx)
}

// renew keeps the session alive until it is stopped, Consul no longer knows
// it, or renewals have failed for a whole TTL.
func (s *session) renew() {
	defer close(s.stopped)
	interval := s.ttl / 3
	last := time.Now()
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-timer.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, interval)
		entry, _, err := s.d.client.Session().Renew(s.id, (&api.WriteOptions{}).WithContext(ctx))
		cancel()
		switch {
		case s.ctx.Err() != nil:
			return
		case err == nil && entry == nil: // invalidated: Consul has deleted its keys
			s.end()
			return
		case err == nil:
			last = time.Now()
			timer.Reset(interval)
		default:
			left := s.ttl - time.Since(last)
			if left <= 0 {
				s.end()
				return
			}
			timer.Reset(min(left, time.Second))
		}
	}
}

// end closes Done.
func (s *session) end() {
	s.endOnce.Do(func() { close(s.done) })
}

// halt stops the renewal loop and waits for it.
func (s *session) halt() {
	s.cancel()
	<-s.stopped
}

// destroy stops renewing and destroys the session on the agent. If the
// agent cannot be reached the session still ends here, and Consul ends it
// after its TTL.
func (s *session) destroy(ctx context.Context) error {
	s.destroyOnce.Do(func() {
		s.halt()
		defer s.d.untrack(s)
		defer s.end()
		if _, err := s.d.client.Session().Destroy(s.id, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
			s.destroyErr = classify(ctx, "destroy session", err, writing)
		}
	})
	return s.destroyErr
}

// abandon stops renewing without destroying, as if the process had died.
func (s *session) abandon() {
	s.cancel()
	s.end()
}

// own returns s as a session of this driver, or ErrInvalid.
func (d *Driver) own(s driver.Session) (*session, error) {
	cs, ok := s.(*session)
	if !ok || cs.d != d {
		return nil, fmt.Errorf("%w: consul: the session was not created by this driver", driver.ErrInvalid)
	}
	select {
	case <-cs.done:
		return nil, errClosed("session " + cs.id + " has ended")
	default:
	}
	return cs, nil
}
