package atomix_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
	"github.com/atomix/go-client/drivers/memory"
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
	wantErr(t, err, atomix.ErrConflict, `atomix: lock "l" (memory): lock: conflict: this instance already holds the lock`)
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
	start := func() { go func() { _, err := waiter.Lock(waitCtx); done <- err }() }
	start()
	// Wait until the waiter's Lock is in flight: then a TryLock on the same
	// instance is ErrConflict. A probe that wins the race for the instance
	// makes the Lock itself fail with ErrConflict; then it is started again.
	restartIfLost := func() bool {
		select {
		case err := <-done:
			if !errors.Is(err, atomix.ErrConflict) {
				t.Fatalf("Lock of a held lock returned %v", err)
			}
			start()
			return true
		default:
			return false
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		restartIfLost()
		_, _, err := waiter.TryLock(ctx)
		if errors.Is(err, atomix.ErrConflict) && !restartIfLost() {
			break
		}
		if errors.Is(err, atomix.ErrConflict) {
			continue
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
	wantErr(t, err, context.DeadlineExceeded, `atomix: lock "l" (memory): lock: timeout: `)
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

func TestLockLostWhenTheSessionEnds(t *testing.T) {
	ctx := t.Context()
	d := &recordingDriver{Driver: memory.New()}
	c := atomix.NewClient(atomix.WithDriver(d))
	defer c.Close(ctx)
	l, _ := c.GetLock(ctx, "l")
	if _, err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	lost := l.Lost()
	if err := d.started()[0].Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-time.After(5 * time.Second):
		t.Fatal("Lost not closed after the session ended")
	}
	if ok, err := l.Unlock(ctx); err != nil || ok {
		t.Fatalf("Unlock of a lost hold = %v, %v; want false", ok, err)
	}
}

// A Lock call waiting when its session ends goes on waiting with a new
// session, and gets the lock when it is released.
func TestLockWaitOutlivesItsSession(t *testing.T) {
	ctx := t.Context()
	store := memory.NewStore()
	holderClient := atomix.NewClient(atomix.WithDriver(store.Connect()))
	defer holderClient.Close(ctx)
	d := &recordingDriver{Driver: store.Connect()}
	waiterClient := atomix.NewClient(atomix.WithDriver(d))
	defer waiterClient.Close(ctx)

	holder, _ := holderClient.GetLock(ctx, "l")
	waiter, _ := waiterClient.GetLock(ctx, "l")
	v1, err := holder.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		v   uint64
		err error
	}
	done := make(chan result, 1)
	go func() { v, err := waiter.Lock(ctx); done <- result{v, err} }()
	waitSessions(t, d, 1)
	time.Sleep(20 * time.Millisecond) // let the waiter queue with it
	if err := d.started()[0].Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitSessions(t, d, 2)
	select {
	case r := <-done:
		t.Fatalf("Lock returned %d, %v while the lock was held", r.v, r.err)
	case <-time.After(20 * time.Millisecond):
	}
	if ok, err := holder.Unlock(ctx); err != nil || !ok {
		t.Fatalf("Unlock = %v, %v", ok, err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.v <= v1 {
			t.Fatalf("Lock after the session changed = %d, %v; want a version above %d", r.v, r.err, v1)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter did not get the released lock")
	}
	if isClosed(waiter.Lost()) {
		t.Fatal("Lost closed although the waiter holds the lock")
	}
}

// waitSessions waits until d has started n sessions.
func waitSessions(t *testing.T, d *recordingDriver, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(d.started()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions started, want %d", len(d.started()), n)
		}
		time.Sleep(time.Millisecond)
	}
}
