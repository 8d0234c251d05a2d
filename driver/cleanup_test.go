package driver_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

var errDown = errors.New("the server is down")

func TestRetryCleanupUntilItSucceeds(t *testing.T) {
	var calls atomic.Int32
	ok := driver.RetryCleanup(t.Context(), func(context.Context) error {
		if calls.Add(1) < 3 {
			return errDown
		}
		return nil
	})
	if !ok || calls.Load() != 3 {
		t.Fatalf("RetryCleanup = %v after %d calls, want true after 3", ok, calls.Load())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if driver.RetryCleanup(ctx, func(context.Context) error { return errDown }) {
		t.Fatal("RetryCleanup of a clean-up that always fails reported success")
	}
}

// TestCleanupStopWaitsForTheCallInFlight: once Stop returns, the call in
// flight has returned (its context was cancelled) and no other starts.
func TestCleanupStopWaitsForTheCallInFlight(t *testing.T) {
	var calls, running atomic.Int32
	started := make(chan struct{}, 1)
	c := driver.StartCleanup(t.Context(), nil, func(ctx context.Context) error {
		calls.Add(1)
		running.Add(1)
		defer running.Add(-1)
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond) // a request slow to give up
		return ctx.Err()
	})
	<-started
	c.Stop()
	if running.Load() != 0 {
		t.Fatal("Stop returned while a call was in flight")
	}
	n := calls.Load()
	time.Sleep(100 * time.Millisecond)
	if calls.Load() != n {
		t.Fatal("a call started after Stop returned")
	}
	c.Stop() // a second Stop returns at once
}

func TestCleanupEnds(t *testing.T) {
	ended := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	failing := func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}
	byEnded := driver.StartCleanup(t.Context(), ended, failing)
	byCtx := driver.StartCleanup(ctx, nil, failing)
	byItself := driver.StartCleanup(t.Context(), nil, func(context.Context) error { return nil })
	close(ended)
	cancel()
	for what, c := range map[string]*driver.Cleanup{"ended closed": byEnded, "ctx ended": byCtx, "success": byItself} {
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("the clean-up did not end after %s", what)
		}
	}
}
