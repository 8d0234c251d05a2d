package atomix_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/semaphore"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/memory"
)

// plainDriver hides every optional interface of the driver it wraps, as a
// driver written before semaphores existed would.
type plainDriver struct{ driver.Driver }

// TestSemaphoreNotSupported: a driver without driver.SemaphoreOpener gives
// ErrNotSupported from the getter, not a panic or a silent fallback.
func TestSemaphoreNotSupported(t *testing.T) {
	ctx := t.Context()
	c := atomix.NewClient(atomix.WithDriver(plainDriver{memory.New()}))
	defer c.Close(ctx)
	if _, err := c.GetSemaphore(ctx, "s"); !errors.Is(err, atomix.ErrNotSupported) {
		t.Fatalf("GetSemaphore on a driver without semaphores: %v, want ErrNotSupported", err)
	}
}

// TestSemaphoreWaitSurvivesSessionExpiry: a session that ends while Acquire
// waits is not ErrClosed; the wait goes on with the client's next session.
func TestSemaphoreWaitSurvivesSessionExpiry(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	plain, faulty, fd := twoClients(t)
	held, _ := plain.GetSemaphore(ctx, "s", semaphore.WithLimit(2))
	waiter, err := faulty.GetSemaphore(ctx, "s", semaphore.WithLimit(2))
	if err != nil {
		t.Fatal(err)
	}
	v1, err := held.Acquire(ctx, semaphore.Permits(2))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	var v2 uint64
	go func() {
		var err error
		v2, err = waiter.Acquire(ctx)
		got <- err
	}()
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
	if _, err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("Acquire whose session ended while it waited: %v; want it to wait on with the next session", err)
	}
	if v2 <= v1 {
		t.Fatalf("version %d after %d", v2, v1)
	}
}

// TestSemaphoreReleaseThatCannotBeConfirmedStillReleases: a Release or
// Close the backend cannot confirm returns an error, closes Lost at once,
// and gives the permits back as soon as the backend answers again.
func TestSemaphoreReleaseThatCannotBeConfirmedStillReleases(t *testing.T) {
	for _, how := range []string{"Release", "Close"} {
		t.Run(how, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			plain, faulty, fd := twoClients(t)
			s, _ := faulty.GetSemaphore(ctx, "s")
			if _, err := s.Acquire(ctx); err != nil {
				t.Fatal(err)
			}
			fd.mu.Lock()
			fd.failReleases = 2
			fd.mu.Unlock()
			var err error
			if how == "Release" {
				_, err = s.Release(ctx)
			} else {
				err = s.Close(ctx)
			}
			if !errors.Is(err, atomix.ErrUnavailable) {
				t.Fatalf("%s that could not be confirmed: %v, want ErrUnavailable", how, err)
			}
			if !isClosed(s.Lost()) {
				t.Fatalf("Lost still open after %s returned", how)
			}
			other, _ := plain.GetSemaphore(ctx, "s")
			if _, err := other.Acquire(ctx); err != nil {
				t.Fatalf("the permit was never given back on the backend: %v", err)
			}
		})
	}
}

// TestSemaphoreAndLockOfOneNameAreSeparate: a semaphore and a lock of the
// same name share no state, and errors name the semaphore.
func TestSemaphoreAndLockOfOneNameAreSeparate(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c := atomix.NewClient(atomix.WithDriver(memory.New()))
	defer c.Close(ctx)
	s, _ := c.GetSemaphore(ctx, "x")
	l, _ := c.GetLock(ctx, "x")
	if _, err := s.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := l.TryLock(ctx); err != nil || !ok {
		t.Fatalf("TryLock of a lock named like a held semaphore: %v, %v", ok, err)
	}
	if _, err := s.Acquire(ctx); !errors.Is(err, atomix.ErrConflict) {
		t.Fatalf("a second Acquire on one instance: %v, want ErrConflict", err)
	}
	var ae *atomix.Error
	if _, err := s.Acquire(ctx); !errors.As(err, &ae) || ae.Primitive != "semaphore" {
		t.Fatalf("error %v does not name the semaphore", err)
	}
}
