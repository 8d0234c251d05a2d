package atomix_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/memory"
)

// faultyDriver wraps a memory connection so that a test can end the
// sessions it started and make lock releases fail, as a backend that
// expired a session or could not be reached would.
type faultyDriver struct {
	driver.Driver

	mu           sync.Mutex
	sessions     []driver.Session
	failReleases int // the next n Release calls fail with ErrUnavailable
	failLeaves   int // the next n Election.Leave calls fail with ErrUnavailable
	// notify makes its locks' holds notify their end (driver.Hold.Notify),
	// as the Redis driver's do, instead of leaving the portable layer a
	// goroutine to wait on Gone.
	notify bool
}

// failing reports whether the next call counted by n fails, counting it.
func (d *faultyDriver) failing(n *int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if *n == 0 {
		return false
	}
	*n--
	return true
}

func (d *faultyDriver) OpenElection(ctx context.Context, id driver.ID) (driver.Election, error) {
	e, err := d.Driver.OpenElection(ctx, id)
	if err != nil {
		return nil, err
	}
	return &faultyElection{Election: e, d: d}, nil
}

type faultyElection struct {
	driver.Election
	d *faultyDriver
}

func (e *faultyElection) Leave(ctx context.Context, candidate string) (driver.Term, error) {
	if e.d.failing(&e.d.failLeaves) {
		return driver.Term{}, driver.Errorf(driver.ErrUnavailable, "injected: the backend cannot be reached")
	}
	return e.Election.Leave(ctx, candidate)
}

func (d *faultyDriver) NewSession(ctx context.Context, opts driver.SessionOptions) (driver.Session, error) {
	s, err := d.Driver.NewSession(ctx, opts)
	if err == nil {
		d.mu.Lock()
		d.sessions = append(d.sessions, s)
		d.mu.Unlock()
	}
	return s, err
}

// endSessions ends every session started so far, as an expiry would.
func (d *faultyDriver) endSessions(t *testing.T) {
	d.mu.Lock()
	ss := d.sessions
	d.sessions = nil
	d.mu.Unlock()
	for _, s := range ss {
		if err := s.Close(context.Background()); err != nil {
			t.Fatalf("end a session: %v", err)
		}
	}
}

func (d *faultyDriver) OpenLock(ctx context.Context, id driver.ID) (driver.Lock, error) {
	l, err := d.Driver.OpenLock(ctx, id)
	if err != nil {
		return nil, err
	}
	return &faultyLock{Lock: l, d: d}, nil
}

type faultyLock struct {
	driver.Lock
	d *faultyDriver
}

func (l *faultyLock) Acquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, error) {
	h, err := l.Lock.Acquire(ctx, s, owner)
	return l.d.notifying(h), err
}

func (l *faultyLock) TryAcquire(ctx context.Context, s driver.Session, owner string) (driver.Hold, bool, error) {
	h, ok, err := l.Lock.TryAcquire(ctx, s, owner)
	return l.d.notifying(h), ok, err
}

// notifying returns h, made to notify its end if d.notify is set.
func (d *faultyDriver) notifying(h driver.Hold) driver.Hold {
	if !d.notify || h.Gone == nil {
		return h
	}
	g := driver.NewGoneSignal()
	go func() {
		<-h.Gone
		g.Close()
	}()
	return g.Hold(h.Version)
}

func (l *faultyLock) Release(ctx context.Context, owner string, version uint64) (bool, error) {
	if err := l.d.releaseFault(); err != nil {
		return false, err
	}
	return l.Lock.Release(ctx, owner, version)
}

// releaseFault returns the error of a release that is to fail, else nil.
func (d *faultyDriver) releaseFault() error {
	if d.failing(&d.failReleases) {
		return driver.Errorf(driver.ErrUnavailable, "injected: the backend cannot be reached")
	}
	return nil
}

// OpenSemaphore gives the faulty driver semaphores whose releases fail as
// its locks' do.
func (d *faultyDriver) OpenSemaphore(ctx context.Context, id driver.ID, limit int) (driver.Semaphore, error) {
	s, err := d.Driver.(driver.SemaphoreOpener).OpenSemaphore(ctx, id, limit)
	if err != nil {
		return nil, err
	}
	return &faultySemaphore{Semaphore: s, d: d}, nil
}

type faultySemaphore struct {
	driver.Semaphore
	d *faultyDriver
}

func (s *faultySemaphore) Release(ctx context.Context, owner string, version uint64) (bool, error) {
	if err := s.d.releaseFault(); err != nil {
		return false, err
	}
	return s.Semaphore.Release(ctx, owner, version)
}

// twoClients returns a plain client and a client over a faulty driver, on
// one memory store.
func twoClients(t *testing.T) (*atomix.Client, *atomix.Client, *faultyDriver) {
	store := memory.NewStore()
	plain := atomix.NewClient(atomix.WithDriver(store.Connect()))
	fd := &faultyDriver{Driver: store.Connect()}
	faulty := atomix.NewClient(atomix.WithDriver(fd))
	t.Cleanup(func() {
		_ = faulty.Close(context.Background())
		_ = plain.Close(context.Background())
	})
	return plain, faulty, fd
}

// TestLockWaitSurvivesSessionExpiry: a session that ends while Lock waits
// is not ErrClosed; the wait goes on with the client's next session.
func TestLockWaitSurvivesSessionExpiry(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	plain, faulty, fd := twoClients(t)
	held, _ := plain.GetLock(ctx, "l")
	waiter, _ := faulty.GetLock(ctx, "l")
	checkWaitSurvivesSessionExpiry(t, fd,
		func() (uint64, error) { return held.Lock(ctx) },
		func() (uint64, error) { return waiter.Lock(ctx) },
		func() error { _, err := held.Unlock(ctx); return err })
}

// checkWaitSurvivesSessionExpiry takes a hold with hold, starts wait on the
// faulty client, ends the faulty client's sessions while it waits, and
// releases the hold: the wait must go on with the next session and return
// a version above the first.
func checkWaitSurvivesSessionExpiry(t *testing.T, fd *faultyDriver, hold, wait func() (uint64, error), release func() error) {
	t.Helper()
	v1, err := hold()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	var v2 uint64
	go func() {
		var err error
		v2, err = wait()
		got <- err
	}()
	// Wait until the waiter has a session, then end it.
	for {
		fd.mu.Lock()
		n := len(fd.sessions)
		fd.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	fd.endSessions(t)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("a wait whose session ended: %v; want it to wait on with the next session", err)
	}
	if v2 <= v1 {
		t.Fatalf("version %d after %d", v2, v1)
	}
}

// TestCloseCancelsLockWait: closing an instance whose Lock waits ends the
// wait with ErrClosed and leaves no waiter behind.
func TestCloseCancelsLockWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	plain, other, _ := twoClients(t)
	held, _ := plain.GetLock(ctx, "l")
	waiter, _ := other.GetLock(ctx, "l")
	if _, err := held.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := waiter.Lock(ctx)
		got <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it queue; either way Close must end it
	if err := waiter.Close(ctx); err != nil {
		t.Fatalf("Close of a waiting instance: %v", err)
	}
	if err := <-got; !errors.Is(err, atomix.ErrClosed) {
		t.Fatalf("Lock of an instance closed while waiting: %v, want ErrClosed", err)
	}
	if _, err := held.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	newcomer, _ := plain.GetLock(ctx, "l")
	if _, ok, err := newcomer.TryLock(ctx); err != nil || !ok {
		t.Fatalf("TryLock after the closed waiter: %v, %v; the waiter was left behind", ok, err)
	}
}

// TestLostClosesWhenSessionEnds: a hold ends, and Lost closes, when the
// session it is bound to ends.
func TestLostClosesWhenSessionEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, faulty, fd := twoClients(t)
	l, _ := faulty.GetLock(ctx, "l")
	if _, err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	lost := l.Lost()
	if isClosed(lost) {
		t.Fatal("Lost closed while held")
	}
	fd.endSessions(t)
	select {
	case <-lost:
	case <-ctx.Done():
		t.Fatal("Lost not closed after the session ended")
	}
}

// TestUnlockThatCannotBeConfirmedStillReleases: an Unlock the backend
// cannot confirm returns an error, ends the hold locally at once, and
// releases it on the backend as soon as the backend answers again.
func TestUnlockThatCannotBeConfirmedStillReleases(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	plain, faulty, fd := twoClients(t)
	l, _ := faulty.GetLock(ctx, "l")
	other, _ := plain.GetLock(ctx, "l")
	checkUnconfirmedRelease(t, fd, "Unlock", l.Lost,
		func() error { _, err := l.Lock(ctx); return err },
		func() error { _, err := l.Unlock(ctx); return err },
		func() error { _, err := other.Lock(ctx); return err })
}

// TestCloseThatCannotReleaseStillReleases: a lock instance closed while its
// release cannot be confirmed returns the error, and the hold is released on
// the backend as soon as it answers, while the client lives on (it used to
// stay held for as long as the client's session was renewed).
func TestCloseThatCannotReleaseStillReleases(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	plain, faulty, fd := twoClients(t)
	l, _ := faulty.GetLock(ctx, "l")
	other, _ := plain.GetLock(ctx, "l")
	checkUnconfirmedRelease(t, fd, "Close", l.Lost,
		func() error { _, err := l.Lock(ctx); return err },
		func() error { return l.Close(ctx) },
		func() error { _, err := other.Lock(ctx); return err })
}

// checkUnconfirmedRelease takes a hold with hold on the faulty client, makes
// the next two releases fail, and calls release (named how): it must return
// ErrUnavailable with lost already closed, and then next, an acquisition by
// another client that waits for the hold, must succeed: the release was
// retried in the background.
func checkUnconfirmedRelease(t *testing.T, fd *faultyDriver, how string, lost func() <-chan struct{}, hold, release, next func() error) {
	t.Helper()
	if err := hold(); err != nil {
		t.Fatal(err)
	}
	fd.mu.Lock()
	fd.failReleases = 2
	fd.mu.Unlock()
	if err := release(); !errors.Is(err, atomix.ErrUnavailable) {
		t.Fatalf("%s that could not be confirmed: %v, want ErrUnavailable", how, err)
	}
	if !isClosed(lost()) {
		t.Fatalf("Lost still open after %s returned", how)
	}
	if err := next(); err != nil {
		t.Fatalf("the hold was never released on the backend after %s: %v", how, err)
	}
}

// TestElectionCloseThatCannotLeaveStillLeaves: an election instance closed
// while its Leave cannot be confirmed returns the error, and the candidacy
// is withdrawn as soon as the backend answers, while the client lives on.
func TestElectionCloseThatCannotLeaveStillLeaves(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	plain, faulty, fd := twoClients(t)
	leader, _ := faulty.GetElection(ctx, "e")
	if _, err := leader.Enter(ctx); err != nil {
		t.Fatal(err)
	}
	fd.mu.Lock()
	fd.failLeaves = 2
	fd.mu.Unlock()
	if err := leader.Close(ctx); !errors.Is(err, atomix.ErrUnavailable) {
		t.Fatalf("Close whose Leave could not be confirmed: %v, want ErrUnavailable", err)
	}
	other, _ := plain.GetElection(ctx, "e")
	for {
		term, err := other.GetTerm(ctx)
		if err != nil {
			t.Fatalf("the closed instance's candidacy was never withdrawn: %v", err)
		}
		if term.Leader == "" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
