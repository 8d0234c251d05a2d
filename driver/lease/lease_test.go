package lease_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atomix/go-client/driver/lease"
)

// TestDeadlineCountsFromTheSendTime: with every renewal failing, Done closes
// at the grant's send time plus the TTL, not later.
func TestDeadlineCountsFromTheSendTime(t *testing.T) {
	sent := time.Now().Add(-200 * time.Millisecond) // the grant took 200 ms to answer
	ttl := 600 * time.Millisecond
	failing := errors.New("unreachable")
	k := lease.Start(sent, ttl, func(ctx context.Context) (time.Duration, error) { return 0, failing })
	defer k.Stop()
	if got := k.Deadline(); !got.Equal(sent.Add(ttl)) {
		t.Fatalf("Deadline = %v, want the send time plus the TTL %v", got, sent.Add(ttl))
	}
	select {
	case <-k.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the deadline passed")
	}
	if late := time.Since(sent.Add(ttl)); late < 0 {
		t.Fatalf("Done closed %v before the deadline", -late)
	}
	if err := k.Cause(); !errors.Is(err, lease.ErrExpired) || !errors.Is(err, failing) {
		t.Fatalf("Cause = %v, want ErrExpired wrapping the last renewal error", err)
	}
}

// TestRenewalMovesTheDeadline: each successful renewal moves the deadline to
// its own send time plus the granted TTL.
func TestRenewalMovesTheDeadline(t *testing.T) {
	var renewals atomic.Int32
	start := time.Now()
	k := lease.Start(start, 300*time.Millisecond, func(ctx context.Context) (time.Duration, error) {
		renewals.Add(1)
		return 300 * time.Millisecond, nil
	})
	deadline := time.Now().Add(5 * time.Second)
	for renewals.Load() < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("%d renewals in 5s, want 4", renewals.Load())
		}
		select {
		case <-k.Done():
			t.Fatalf("Done closed while renewals succeed: %v", k.Cause())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if !k.Deadline().After(start.Add(300 * time.Millisecond)) {
		t.Fatalf("Deadline %v did not move past the first one", k.Deadline())
	}
	k.Stop()
	k.Stop() // harmless
	if err := k.Cause(); !errors.Is(err, lease.ErrStopped) {
		t.Fatalf("Cause after Stop = %v", err)
	}
	n := renewals.Load()
	time.Sleep(250 * time.Millisecond) // longer than a renewal interval
	if renewals.Load() != n {
		t.Fatal("a renewal was sent after Stop returned")
	}
}

// TestGoneEndsAtOnce: a renewal that finds the lease gone ends it before the
// deadline.
func TestGoneEndsAtOnce(t *testing.T) {
	k := lease.Start(time.Now(), 3*time.Second, func(ctx context.Context) (time.Duration, error) {
		return 0, lease.ErrGone
	})
	defer k.Stop()
	select {
	case <-k.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("Done not closed after the lease was gone")
	}
	if !errors.Is(k.Cause(), lease.ErrGone) {
		t.Fatalf("Cause = %v, want ErrGone", k.Cause())
	}
}

// TestOnRenewReportsEveryRenewal: OnRenew's function hears each renewal the
// keeper sends, with nil for a success and the error of a failure.
func TestOnRenewReportsEveryRenewal(t *testing.T) {
	failing := errors.New("unreachable")
	var n atomic.Int32
	reports := make(chan error, 16)
	k := lease.Start(time.Now(), 300*time.Millisecond, func(ctx context.Context) (time.Duration, error) {
		if n.Add(1) == 2 {
			return 0, failing
		}
		return 0, nil
	}, lease.OnRenew(func(err error) { reports <- err }))
	defer k.Stop()
	for i, want := range []error{nil, failing, nil} {
		select {
		case err := <-reports:
			if err != want {
				t.Fatalf("report %d = %v, want %v", i, err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("report %d not heard", i)
		}
	}
}
