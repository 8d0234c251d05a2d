package atomix_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
)

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestLockInstanceIsOneOwner(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	l, err := c.GetLock(ctx, "l")
	if err != nil {
		t.Fatal(err)
	}
	if !isClosed(l.Lost()) {
		t.Fatal("Lost of an instance that never held is not closed")
	}
	v, err := l.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lost := l.Lost()
	if isClosed(lost) {
		t.Fatal("Lost closed while holding")
	}

	// Locking again on the same instance fails at once instead of
	// deadlocking.
	start := time.Now()
	_, err = l.Lock(ctx)
	wantErr(t, err, atomix.ErrConflict, `atomix: lock "l": lock: conflict: this instance already holds the lock`)
	_, _, err = l.TryLock(ctx)
	wantErr(t, err, atomix.ErrConflict)
	if time.Since(start) > time.Second {
		t.Fatal("ErrConflict was not immediate")
	}

	if ok, err := l.IsLocked(ctx, lock.WithVersion(v)); err != nil || !ok {
		t.Fatalf("IsLocked(WithVersion(%d)) = %v, %v", v, ok, err)
	}
	if ok, err := l.IsLocked(ctx, lock.WithVersion(v+1)); err != nil || ok {
		t.Fatalf("IsLocked(another version) = %v, %v", ok, err)
	}
	if ok, err := l.Unlock(ctx); err != nil || !ok {
		t.Fatalf("Unlock = %v, %v", ok, err)
	}
	if !isClosed(lost) || !isClosed(l.Lost()) {
		t.Fatal("Lost not closed after Unlock")
	}
	if ok, err := l.Unlock(ctx); err != nil || ok {
		t.Fatalf("second Unlock = %v, %v; want false", ok, err)
	}
	v2, err := l.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	if v2 <= v {
		t.Fatalf("version %d after %d", v2, v)
	}
}

func TestLockWhileAcquiringIsConflict(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	holder, _ := c.GetLock(ctx, "l")
	waiter, _ := c.GetLock(ctx, "l")
	if _, err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := waiter.Lock(waitCtx); done <- err }()
	// Wait until the waiter's Lock is in flight.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, _, err := waiter.TryLock(ctx)
		if errors.Is(err, atomix.ErrConflict) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("second Lock call on a waiting instance did not fail with ErrConflict")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Lock: %v", err)
	}
	// The instance can try again after the cancelled attempt.
	if _, ok, err := waiter.TryLock(ctx); err != nil || ok {
		t.Fatalf("TryLock on a held lock = %v, %v", ok, err)
	}
}

func TestLockDeadlineIsTimeout(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	holder, _ := c.GetLock(ctx, "l")
	waiter, _ := c.GetLock(ctx, "l")
	if _, err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err := waiter.Lock(short)
	wantErr(t, err, context.DeadlineExceeded, `atomix: lock "l": lock: timeout: `)
	wantErr(t, err, atomix.ErrTimeout)
}

func TestUnlockIfMatch(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	holder, _ := c.GetLock(ctx, "l")
	other, _ := c.GetLock(ctx, "l")
	v, err := holder.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := other.Unlock(ctx, lock.IfMatch(v+1)); err != nil || ok {
		t.Fatalf("Unlock(IfMatch(wrong)) = %v, %v", ok, err)
	}
	if ok, err := other.Unlock(ctx, lock.IfMatch(v)); err != nil || !ok {
		t.Fatalf("Unlock(IfMatch(v)) = %v, %v", ok, err)
	}
	select {
	case <-holder.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("holder's Lost not closed after another owner's Unlock(IfMatch)")
	}
	if ok, err := holder.IsLocked(ctx); err != nil || ok {
		t.Fatalf("IsLocked = %v, %v", ok, err)
	}
}

func TestLockRejectsVersionOptions(t *testing.T) {
	ctx := t.Context()
	l, _ := newClient(t).GetLock(ctx, "l")
	_, err := l.Lock(ctx, lock.WithVersion(1))
	wantErr(t, err, atomix.ErrInvalid)
	_, _, err = l.TryLock(ctx, lock.IfMatch(1))
	wantErr(t, err, atomix.ErrInvalid)
	if _, err := l.Lock(ctx); err != nil {
		t.Fatalf("a rejected call left the instance busy: %v", err)
	}
}

func TestLockCloseReleases(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	l, _ := c.GetLock(ctx, "l")
	other, _ := c.GetLock(ctx, "l")
	if _, err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !isClosed(l.Lost()) {
		t.Fatal("Lost not closed by Close")
	}
	if _, ok, err := other.TryLock(ctx); err != nil || !ok {
		t.Fatalf("TryLock after the holder closed = %v, %v", ok, err)
	}
	_, err := l.Lock(ctx)
	wantErr(t, err, atomix.ErrClosed)
}
