package atomix_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/semaphore"
	"github.com/atomix/go-client/drivers/memory"
)

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
	checkWaitSurvivesSessionExpiry(t, fd,
		func() (uint64, error) { return held.Acquire(ctx, semaphore.Permits(2)) },
		func() (uint64, error) { return waiter.Acquire(ctx) },
		func() error { _, err := held.Release(ctx); return err })
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
			other, _ := plain.GetSemaphore(ctx, "s")
			release := func() error { _, err := s.Release(ctx); return err }
			if how == "Close" {
				release = func() error { return s.Close(ctx) }
			}
			checkUnconfirmedRelease(t, fd, how, s.Lost,
				func() error { _, err := s.Acquire(ctx); return err },
				release,
				func() error { _, err := other.Acquire(ctx); return err })
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
