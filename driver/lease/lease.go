// Package lease keeps a backend lease alive: the one renewal loop and the one
// deadline rule every driver's sessions use.
//
// The rule: a lease is known to be valid until the time the last successful
// renewal was sent plus the TTL the backend granted with it. The send time,
// not the reply time, because the backend may have started the TTL at any
// moment between the two. Done closes at that deadline if no renewal
// succeeded meanwhile, which is never later than the moment the backend
// expires the lease: a lock holder learns it lost the lock no later than the
// next owner can take it.
//
// A driver starts a Keeper when it creates a session, after the backend
// granted the lease, with the time it sent the grant:
//
//	sent := time.Now()
//	id, ttl, err := grant(ctx)
//	…
//	k := lease.Start(sent, ttl, func(ctx context.Context) (time.Duration, error) {
//		return renewOnce(ctx, id)
//	})
//
// and uses k.Done() as its session's Done channel.
package lease

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrGone is returned by a RenewFunc when the backend says the lease no
// longer exists: the keeper stops at once.
var ErrGone = errors.New("lease: the lease no longer exists")

// ErrStopped is the Cause of a keeper ended by Stop.
var ErrStopped = errors.New("lease: stopped")

// ErrExpired is the Cause of a keeper whose deadline passed with no
// successful renewal; it wraps the last renewal error, if any.
var ErrExpired = errors.New("lease: deadline passed without a successful renewal")

// RenewFunc sends one renewal of the lease and returns the TTL the backend
// granted with it (0 keeps the previous TTL). It must return by the time ctx
// ends. It returns ErrGone (or an error wrapping it) when the backend says
// the lease does not exist any more.
type RenewFunc func(ctx context.Context) (ttl time.Duration, err error)

// Keeper renews one lease every third of its TTL until it is stopped, the
// backend says the lease is gone, or the deadline passes without a
// successful renewal. Its methods are safe for concurrent use.
type Keeper struct {
	renew    RenewFunc
	reported func(err error) // OnRenew's, nil when none
	stop     context.CancelFunc
	done     chan struct{}
	ended    chan struct{} // closed when the loop has returned

	mu       sync.Mutex
	deadline time.Time
	cause    error
}

// Option configures a Keeper.
type Option func(*Keeper)

// OnRenew makes the keeper call report after every renewal it sends, with
// nil if the renewal succeeded, else its error: how a driver reports
// renewals to its driver.Observer. report runs on the keeper's goroutine
// and must return quickly.
func OnRenew(report func(err error)) Option {
	return func(k *Keeper) { k.reported = report }
}

// Start starts renewing a lease that the backend granted for ttl in reply to
// a request sent at sent. The first deadline is sent+ttl.
func Start(sent time.Time, ttl time.Duration, renew RenewFunc, opts ...Option) *Keeper {
	ctx, stop := context.WithCancel(context.Background())
	k := &Keeper{
		renew:    renew,
		stop:     stop,
		done:     make(chan struct{}),
		ended:    make(chan struct{}),
		deadline: sent.Add(ttl),
	}
	for _, opt := range opts {
		opt(k)
	}
	go k.loop(ctx, ttl)
	return k
}

// Done is closed when the lease must be taken as ended: stopped, gone on the
// backend, or past its deadline.
func (k *Keeper) Done() <-chan struct{} { return k.done }

// Deadline is the time until which the lease is known to be valid.
func (k *Keeper) Deadline() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.deadline
}

// Cause says why Done closed: ErrStopped, ErrGone or ErrExpired (wrapping
// the last renewal error). It is nil while the lease lives.
func (k *Keeper) Cause() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cause
}

// Stop stops renewing and closes Done; it returns once the renewal loop has
// returned, so no renewal is sent after it. Stopping twice is harmless.
func (k *Keeper) Stop() {
	k.stop()
	<-k.ended
}

func (k *Keeper) end(cause error) {
	k.mu.Lock()
	if k.cause == nil {
		k.cause = cause
	}
	k.mu.Unlock()
	close(k.done)
}

// RetryDelay is how long the keeper waits after a failed renewal before it
// tries again: a tenth of the TTL, at most 500 ms.
func RetryDelay(ttl time.Duration) time.Duration {
	return min(ttl/10, 500*time.Millisecond)
}

func (k *Keeper) loop(ctx context.Context, ttl time.Duration) {
	defer close(k.ended)
	deadline := k.Deadline()
	expiry := time.NewTimer(time.Until(deadline))
	defer expiry.Stop()
	renew := time.NewTimer(ttl / 3)
	defer renew.Stop()
	var last error
	for {
		select {
		case <-ctx.Done():
			k.end(ErrStopped)
			return
		case <-expiry.C:
			k.end(expired(last))
			return
		case <-renew.C:
		}
		sent := time.Now()
		rctx, cancel := context.WithDeadline(ctx, deadline)
		granted, err := k.renew(rctx)
		cancel()
		if k.reported != nil && ctx.Err() == nil {
			k.reported(err)
		}
		switch {
		case err == nil:
			if granted > 0 {
				ttl = granted
			}
			deadline = sent.Add(ttl)
			k.mu.Lock()
			k.deadline = deadline
			k.mu.Unlock()
			expiry.Reset(time.Until(deadline))
			renew.Reset(ttl / 3)
			last = nil
		case errors.Is(err, ErrGone):
			k.end(err)
			return
		default:
			last = err
			if ctx.Err() != nil {
				k.end(ErrStopped)
				return
			}
			if !time.Now().Before(deadline) {
				k.end(expired(last))
				return
			}
			renew.Reset(RetryDelay(ttl))
		}
	}
}

func expired(last error) error {
	if last == nil {
		return ErrExpired
	}
	return errors.Join(ErrExpired, last)
}
