package consul

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// The conformance suite covers the lock through the public API; these
// tests check what it cannot see: the hand-over inside the release
// transaction, the keys an abandoned attempt leaves, and when Gone closes.

// TestLockHandOverInArrivalOrder checks that a release gives the lock to
// the first waiter in the same transaction: the lock is never free in
// between, and the waiters get it in the order they came.
func TestLockHandOverInArrivalOrder(t *testing.T) {
	ctx := testContext(t)
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	locks := make([]driver.Lock, 3)
	sessions := make([]driver.Session, 3)
	for i := range locks {
		d := testDriverAt(t, addr, prefix)
		sessions[i] = testSession(t, d)
		locks[i], _ = d.OpenLock(ctx, testID("l"))
	}
	first, err := locks[0].Acquire(ctx, sessions[0], "a")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan driver.Hold, 2)
	for i, owner := range []string{"b", "c"} {
		go func() {
			h, err := locks[i+1].Acquire(ctx, sessions[i+1], owner)
			if err != nil {
				t.Error(err)
			}
			got <- h
		}()
		waitForWaiters(t, locks[0], i+1) // b registers before c
	}
	prev := first
	for i, owner := range []string{"a", "b"} {
		if ok, err := locks[i].Release(ctx, owner, prev.Version); err != nil || !ok {
			t.Fatalf("Release by %s = %v, %v", owner, ok, err)
		}
		v, held, err := locks[2].Holder(ctx)
		if err != nil || !held || v <= prev.Version {
			t.Fatalf("Holder right after %s's release = %d, %v, %v; want handed over", owner, v, held, err)
		}
		next := recvWithin(t, got, 5*time.Second)
		if next.Version != v {
			t.Fatalf("waiter %d got version %d, the lock has %d", i+1, next.Version, v)
		}
		if !closedWithin(prev.Gone, 5*time.Second) {
			t.Fatalf("%s's Gone open after its release", owner)
		}
		prev = next
	}
	if ok, err := locks[2].Release(ctx, "c", prev.Version); err != nil || !ok {
		t.Fatalf("Release by c = %v, %v", ok, err)
	}
	waitForWaiters(t, locks[0], 0)
}

// TestLockAbandonedAttemptLeavesNothing: a waiter whose context ends has
// deleted its waiter key by the time Acquire returns.
func TestLockAbandonedAttemptLeavesNothing(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	s := testSession(t, d)
	l, _ := d.OpenLock(ctx, testID("l"))
	if _, err := l.Acquire(ctx, s, "a"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(wctx, s, "b"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire with an expiring context: %v", err)
	}
	requireNoWaiters(t, l)
	if _, ok, err := l.TryAcquire(ctx, s, "b"); err != nil || ok {
		t.Fatalf("TryAcquire of a held lock = %v, %v", ok, err)
	}
	requireNoWaiters(t, l)
}

// requireNoWaiters fails unless the lock has no waiter keys.
func requireNoWaiters(t *testing.T, l driver.Lock) {
	t.Helper()
	if keys := waiterKeys(t, l); len(keys) != 0 {
		t.Fatalf("waiter keys left behind: %q", keys)
	}
}

// waitForWaiters waits up to 5s for the lock to have n waiter keys.
func waitForWaiters(t *testing.T, l driver.Lock, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for keys := waiterKeys(t, l); len(keys) != n; keys = waiterKeys(t, l) {
		if time.Now().After(deadline) {
			t.Fatalf("waiter keys %q, want %d", keys, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waiterKeys(t *testing.T, l driver.Lock) []string {
	t.Helper()
	cl := l.(*consulLock)
	keys, _, err := cl.d.kv.Keys(cl.waiters, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestLockGone checks that a hold is known by its owner and version, that
// Gone closes when another owner releases the hold or when the session is
// destroyed behind the driver's back, and that Close leaves the hold alone.
func TestLockGone(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	s := testSession(t, d)
	l, _ := d.OpenLock(ctx, testID("l"))
	h, err := l.Acquire(ctx, s, "a")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := l.Release(ctx, "b", h.Version); err != nil || ok {
		t.Fatalf("Release by another owner = %v, %v", ok, err)
	}
	if ok, err := l.ReleaseVersion(ctx, h.Version+1); err != nil || ok {
		t.Fatalf("ReleaseVersion of another version = %v, %v", ok, err)
	}
	if closedWithin(h.Gone, 200*time.Millisecond) {
		t.Fatal("Gone closed while the hold lives")
	}
	if ok, err := l.ReleaseVersion(ctx, h.Version); err != nil || !ok {
		t.Fatalf("ReleaseVersion = %v, %v", ok, err)
	}
	if !closedWithin(h.Gone, 5*time.Second) {
		t.Fatal("Gone open after another owner released the hold")
	}
	if ok, err := l.Release(ctx, "a", h.Version); err != nil || ok {
		t.Fatalf("Release of an ended hold = %v, %v", ok, err)
	}

	h2, ok, err := l.TryAcquire(ctx, s, "a")
	if err != nil || !ok || h2.Version <= h.Version {
		t.Fatalf("TryAcquire of a free lock = %d, %v, %v", h2.Version, ok, err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	other, _ := d.OpenLock(ctx, testID("l"))
	if v, held, err := other.Holder(ctx); err != nil || !held || v != h2.Version {
		t.Fatalf("Holder after Close = %d, %v, %v; Close must not release", v, held, err)
	}
	if _, _, err := l.TryAcquire(ctx, s, "a"); !errors.Is(err, driver.ErrClosed) {
		t.Fatalf("TryAcquire on a closed lock: %v", err)
	}

	// Destroyed behind the driver's back: Consul deletes the hold, the
	// hold's watcher sees it, the session's keeper learns it at its next
	// renewal.
	if _, err := d.client.Session().Destroy(s.ID(), nil); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(h2.Gone, 5*time.Second) {
		t.Fatal("Gone open after the session was destroyed")
	}
	if !closedWithin(s.Done(), 10*time.Second) {
		t.Fatal("Done open after the session was destroyed")
	}
	if _, err := other.Acquire(ctx, s, "b"); !errors.Is(err, driver.ErrClosed) {
		t.Fatalf("Acquire with an ended session: %v", err)
	}
}

// TestLockWaitersWakeInTurn: with K waiters queued, each handover wakes the
// new holder and the new first waiter, not every waiter. The waiters'
// blocking reads of single keys (each waiter but the first follows the key
// of the one ahead of it; the first, and the holders, follow the lock's
// keys) stay about one per waiter: 11 for K = 12. When every waiter
// followed the hold, each handover woke all the waiters left: 78.
func TestLockWaitersWakeInTurn(t *testing.T) {
	ctx := testContext(t)
	const k = 12
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	d := testDriverAt(t, addr, prefix)
	holder, _ := d.OpenLock(ctx, testID("l"))
	first, err := holder.Acquire(ctx, testSession(t, d), "holder")
	if err != nil {
		t.Fatal(err)
	}
	counter := &httpCounter{}
	done := make(chan error, k)
	for i := range k {
		wd, err := New(Config{Address: addr, HTTPClient: &http.Client{Transport: counter}, Options: Options{Prefix: prefix}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { wd.Close(context.Background()) })
		l, _ := wd.OpenLock(ctx, testID("l"))
		s := testSession(t, wd)
		go func() {
			owner := "w" + strconv.Itoa(i)
			h, err := l.Acquire(ctx, s, owner)
			if err == nil {
				_, err = l.Release(ctx, owner, h.Version)
			}
			done <- err
		}()
	}
	// Release once every waiter is queued.
	waiters := d.base(kindLock, testID("l")) + "/w/"
	for {
		keys, _, err := d.kv.Keys(waiters, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == k {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := holder.Release(ctx, "holder", first.Version); err != nil {
		t.Fatal(err)
	}
	for range k {
		if err := recvWithin(t, done, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	counter.mu.Lock()
	defer counter.mu.Unlock()
	t.Logf("%d waiters taking turns made %d blocking reads", k, counter.blocking)
	if counter.blocking > 4*k {
		t.Errorf("%d waiters taking turns made %d blocking reads, more than %d", k, counter.blocking, 4*k)
	}
}
