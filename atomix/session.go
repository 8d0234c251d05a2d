package atomix

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/atomix/go-client/driver"
)

// sessionKeeper holds a client's one session: started when a lock or an
// election first needs it, replaced when it ends, closed with the client.
type sessionKeeper struct {
	// starting is a one-token semaphore held while a session is started,
	// so that concurrent callers start one session, not several.
	starting chan struct{}
	// current is the session, nil before the first; it is only replaced
	// while starting is held, and only read without it.
	current atomic.Pointer[liveSession]

	mu     sync.Mutex // orders storing a session against close
	closed bool
}

// liveSession boxes a driver.Session for atomic.Pointer.
type liveSession struct{ driver.Session }

func (k *sessionKeeper) init() { k.starting = make(chan struct{}, 1) }

// ended reports whether the session's Done channel is closed.
func (s *liveSession) ended() bool {
	select {
	case <-s.Done():
		return true
	default:
		return false
	}
}

// session returns the client's session, starting one if there is none or
// the last one ended.
func (c *Client) session(ctx context.Context) (driver.Session, error) {
	k := &c.sessions
	if s := k.current.Load(); s != nil && !s.ended() {
		return s.Session, nil
	}
	select {
	case k.starting <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-k.starting }()

	old := k.current.Load()
	if old != nil && !old.ended() {
		return old.Session, nil // started by another caller meanwhile
	}
	if old != nil {
		// It ended on its own; closing it only frees what the driver
		// still keeps for it, so an error changes nothing.
		_ = old.Close(ctx)
	}
	d, err := c.use()
	if err != nil {
		return nil, err
	}
	s, err := d.NewSession(ctx, driver.SessionOptions{TTL: c.cfg.sessionTTL})
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		_ = s.Close(ctx)
		return nil, fmt.Errorf("%w: the client was closed", ErrClosed)
	}
	k.current.Store(&liveSession{s})
	k.mu.Unlock()
	var replaced driver.Session
	if old != nil {
		replaced = old.Session
	}
	c.sessionStarted(s, replaced)
	return s, nil
}

// close closes the current session, if any; no session is started after.
func (k *sessionKeeper) close(ctx context.Context) error {
	k.mu.Lock()
	k.closed = true
	s := k.current.Swap(nil)
	k.mu.Unlock()
	if s == nil {
		return nil
	}
	if s.ended() {
		_ = s.Close(ctx) // frees what the driver keeps; nothing to report
		return nil
	}
	return s.Close(ctx)
}
