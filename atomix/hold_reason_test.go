package atomix_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

// lateDoneDriver wraps a memory connection so that every session's Done
// closes a while after the session ended, which the driver contract
// allows: a hold's Gone must close no later than Done, and may close well
// before it (on a real backend the hold's removal and the client's view
// of its session travel apart).
type lateDoneDriver struct {
	driver.Driver
	delay time.Duration

	mu       sync.Mutex
	sessions []*lateDoneSession
}

// endSessions ends every session started so far, as an expiry would.
func (d *lateDoneDriver) endSessions(t *testing.T) {
	d.mu.Lock()
	ss := d.sessions
	d.mu.Unlock()
	for _, s := range ss {
		if err := s.Session.Close(context.Background()); err != nil {
			t.Fatalf("end a session: %v", err)
		}
	}
}

// lateDoneSession is a memory session whose Done closes late; its Cause
// is the memory session's.
type lateDoneSession struct {
	driver.Session
	done chan struct{}
}

func (s *lateDoneSession) Done() <-chan struct{} { return s.done }

func (s *lateDoneSession) Cause() error {
	if sc, ok := s.Session.(driver.SessionCause); ok {
		return sc.Cause()
	}
	return nil
}

func (d *lateDoneDriver) NewSession(ctx context.Context, opts driver.SessionOptions) (driver.Session, error) {
	s, err := d.Driver.NewSession(ctx, opts)
	if err != nil {
		return nil, err
	}
	late := &lateDoneSession{Session: s, done: make(chan struct{})}
	d.mu.Lock()
	d.sessions = append(d.sessions, late)
	d.mu.Unlock()
	go func() {
		<-s.Done()
		time.Sleep(d.delay)
		close(late.done)
	}()
	return late, nil
}

func (d *lateDoneDriver) OpenLock(ctx context.Context, id driver.ID) (driver.Lock, error) {
	l, err := d.Driver.OpenLock(ctx, id)
	if err != nil {
		return nil, err
	}
	return unwrappingLock{l}, nil
}

// unwrappingLock hands the memory lock the memory session inside a
// lateDoneSession.
type unwrappingLock struct{ driver.Lock }

func inner(s driver.Session) driver.Session {
	if late, ok := s.(*lateDoneSession); ok {
		return late.Session
	}
	return s
}

func (l unwrappingLock) Acquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, error) {
	return l.Lock.Acquire(ctx, inner(s), owner)
}

func (l unwrappingLock) TryAcquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, bool, error) {
	return l.Lock.TryAcquire(ctx, inner(s), owner)
}
