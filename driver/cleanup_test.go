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
	ok := driver.RetryCleanup(t.Context(), nil, func(context.Context) error {
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
	if driver.RetryCleanup(ctx, nil, func(context.Context) error { return errDown }) {
		t.Fatal("RetryCleanup of a clean-up that always fails reported success")
	}
}

// TestCleanupStopWaitsForTheCallInFlight: Stop lets the call in flight
// return by itself (its request may be applied yet), and once Stop
// returns no call runs or starts.
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
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond): // a request's round trip
		}
		return errDown
	})
	<-started
	stopped := time.Now()
	c.Stop()
	if running.Load() != 0 {
		t.Fatal("Stop returned while a call was in flight")
	}
	if waited := time.Since(stopped); waited < 50*time.Millisecond {
		t.Fatalf("Stop returned after %v: it cut the call in flight short", waited)
	}
	n := calls.Load()
	time.Sleep(200 * time.Millisecond)
	if calls.Load() != n {
		t.Fatal("a call started after Stop returned")
	}
	c.Stop() // a second Stop returns at once
}

func TestCleanupEnds(t *testing.T) {
	ended := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	failing := func(context.Context) error { return errDown }
	byEnded := driver.StartCleanup(t.Context(), ended, failing)
	// The end of ctx also ends a call in flight.
	byCtx := driver.StartCleanup(ctx, nil, func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
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
