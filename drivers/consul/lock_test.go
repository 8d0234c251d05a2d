package consul

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

func TestLockMutualExclusionAndFencing(t *testing.T) {
	ctx := testContext(t)
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	const owners, rounds = 4, 10
	var inside atomic.Int32
	var mu sync.Mutex
	var versions []uint64
	var wg sync.WaitGroup
	for range owners {
		d := testDriverAt(t, addr, prefix)
		s := testSession(t, d)
		l, _ := d.OpenLock(ctx, testID("l"))
		wg.Go(func() {
			for range rounds {
				v, _, err := l.Acquire(ctx, s)
				if err != nil {
					t.Error(err)
					return
				}
				if n := inside.Add(1); n != 1 {
					t.Errorf("%d holders at once", n)
				}
				mu.Lock()
				if len(versions) > 0 && v <= versions[len(versions)-1] {
					t.Errorf("version %d after %d", v, versions[len(versions)-1])
				}
				versions = append(versions, v)
				mu.Unlock()
				inside.Add(-1)
				if ok, err := l.Release(ctx); err != nil || !ok {
					t.Errorf("Release = %v, %v", ok, err)
				}
			}
		})
	}
	wg.Wait()
	if len(versions) != owners*rounds {
		t.Fatalf("%d acquisitions, want %d", len(versions), owners*rounds)
	}
}

func TestLockOperations(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	s := testSession(t, d)
	a, _ := d.OpenLock(ctx, testID("l"))
	b, _ := d.OpenLock(ctx, testID("l")) // same session, another owner
	v, lost, err := a.Acquire(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Acquire(ctx, s); !errors.Is(err, driver.ErrConflict) {
		t.Fatalf("second Acquire on the holder: %v, want ErrConflict", err)
	}
	if _, _, ok, err := b.TryAcquire(ctx, s); err != nil || ok {
		t.Fatalf("TryAcquire of a held lock = %v, %v", ok, err)
	}
	if hv, held, err := b.Holder(ctx); err != nil || !held || hv != v {
		t.Fatalf("Holder = %d, %v, %v; want %d", hv, held, err, v)
	}
	if ok, err := b.Release(ctx); err != nil || ok {
		t.Fatalf("Release by a non-holder = %v, %v", ok, err)
	}
	if ok, err := b.ReleaseVersion(ctx, v+1); err != nil || ok {
		t.Fatalf("ReleaseVersion of another version = %v, %v", ok, err)
	}
	// A waiter whose context ends leaves nothing behind.
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	if _, _, err := b.Acquire(wctx, s); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire with an expiring context: %v", err)
	}
	cancel()
	requireNoWaiters(t, d, b)
	// Another owner releases a's hold by its version: a learns it.
	if ok, err := b.ReleaseVersion(ctx, v); err != nil || !ok {
		t.Fatalf("ReleaseVersion = %v, %v", ok, err)
	}
	if !closedWithin(lost, 5*time.Second) {
		t.Fatal("the holder's lost channel stayed open after ReleaseVersion by another owner")
	}
	if _, held, err := a.Holder(ctx); err != nil || held {
		t.Fatalf("Holder after release = %v, %v", held, err)
	}
	v2, _, ok, err := b.TryAcquire(ctx, s)
	if err != nil || !ok || v2 <= v {
		t.Fatalf("TryAcquire of a free lock = %d, %v, %v", v2, ok, err)
	}
	if ok, err := a.Release(ctx); err != nil || ok {
		t.Fatalf("Release of a lost hold = %v, %v", ok, err)
	}
	// Close gives the hold up.
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	v3, _, ok, err := a.TryAcquire(ctx, s)
	if err != nil || !ok || v3 <= v2 {
		t.Fatalf("TryAcquire after the holder closed = %d, %v, %v", v3, ok, err)
	}
	if _, _, err := b.Acquire(ctx, s); !errors.Is(err, driver.ErrClosed) {
		t.Fatalf("Acquire on a closed lock: %v", err)
	}
}

// waiterKeys returns how many waiters the lock's keys show.
func waiterKeys(t *testing.T, d *Driver, l driver.Lock) int {
	t.Helper()
	keys, _, err := d.kv.Keys(l.(*consulLock).waiters, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// requireNoWaiters waits for the lock's waiter keys to be gone.
func requireNoWaiters(t *testing.T, d *Driver, l driver.Lock) {
	t.Helper()
	prefix := l.(*consulLock).waiters
	deadline := time.Now().Add(5 * time.Second)
	for {
		keys, _, err := d.kv.Keys(prefix, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiter keys left behind: %q", keys)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLockDirectHandOff checks that a holder that knows a waiter hands the
// lock to it in its release.
func TestLockDirectHandOff(t *testing.T) {
	ctx := testContext(t)
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	d1, d2, d3 := testDriverAt(t, addr, prefix), testDriverAt(t, addr, prefix), testDriverAt(t, addr, prefix)
	s1, s2, s3 := testSession(t, d1), testSession(t, d2), testSession(t, d3)
	a, _ := d1.OpenLock(ctx, testID("l"))
	b, _ := d2.OpenLock(ctx, testID("l"))
	c, _ := d3.OpenLock(ctx, testID("l"))
	va, _, err := a.Acquire(ctx, s1)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		v    uint64
		lost <-chan struct{}
		err  error
	}
	got := make(chan result, 2)
	go func() {
		v, lost, err := b.Acquire(ctx, s2)
		got <- result{v, lost, err}
	}()
	la := a.(*consulLock)
	la.mu.Lock()
	h := la.hold
	la.mu.Unlock()
	knownWaiters := func() int {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.next)
	}
	// b registers first, then c; the holder's monitor must know both.
	waitUntil(t, 10*time.Second, "the holder knows b waits", func() bool { return knownWaiters() == 1 })
	go func() {
		v, lost, err := c.Acquire(ctx, s3)
		got <- result{v, lost, err}
	}()
	waitUntil(t, 10*time.Second, "the holder knows b and c wait", func() bool { return knownWaiters() == 2 })
	if w := h.firstWaiter(); w == nil || w.Session != s2.ID() {
		t.Fatalf("first waiter known to the holder: %+v, want b's", w)
	}
	if ok, err := a.Release(ctx); err != nil || !ok {
		t.Fatalf("Release = %v, %v", ok, err)
	}
	r := recvWithin(t, got, 5*time.Second)
	if r.err != nil || r.v <= va {
		t.Fatalf("first waiter got %d, %v", r.v, r.err)
	}
	if v, held, err := c.Holder(ctx); err != nil || !held || v != r.v {
		t.Fatalf("Holder = %d, %v, %v; want %d", v, held, err, r.v)
	}
	if ok, err := b.Release(ctx); err != nil || !ok {
		t.Fatalf("Release by b = %v, %v", ok, err)
	}
	r2 := recvWithin(t, got, 5*time.Second)
	if r2.err != nil || r2.v <= r.v {
		t.Fatalf("second waiter got %d, %v", r2.v, r2.err)
	}
	if !closedWithin(r.lost, time.Second) {
		t.Fatal("b's lost channel open after its release")
	}
	c.Release(ctx)
	requireNoWaiters(t, d1, a)
}

func TestLockCloseAbandonsAcquire(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	s := testSession(t, d)
	a, _ := d.OpenLock(ctx, testID("l"))
	b, _ := d.OpenLock(ctx, testID("l"))
	if _, _, err := a.Acquire(ctx, s); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := b.Acquire(ctx, s)
		done <- err
	}()
	waitUntil(t, 10*time.Second, "b waits", func() bool { return waiterKeys(t, d, b) == 1 })
	b.Close(ctx)
	if err := recvWithin(t, done, 5*time.Second); !errors.Is(err, driver.ErrClosed) {
		t.Fatalf("Acquire interrupted by Close: %v, want ErrClosed", err)
	}
}

func TestLockHandOff(t *testing.T) {
	ctx := testContext(t)
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	d1, d2 := testDriverAt(t, addr, prefix), testDriverAt(t, addr, prefix)
	s1, s2 := testSession(t, d1), testSession(t, d2)
	a, _ := d1.OpenLock(ctx, testID("l"))
	b, _ := d2.OpenLock(ctx, testID("l"))
	va, _, err := a.Acquire(ctx, s1)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan uint64, 1)
	go func() {
		v, _, err := b.Acquire(ctx, s2)
		if err != nil {
			t.Error(err)
		}
		got <- v
	}()
	waitUntil(t, 10*time.Second, "b waits", func() bool { return waiterKeys(t, d2, b) == 1 })
	// Closing the holder's session releases its lock at once.
	if err := s1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if vb := recvWithin(t, got, 5*time.Second); vb <= va {
		t.Fatalf("the next holder's version %d is not above %d", vb, va)
	}
}

// TestLockHolderCrash waits for Consul to expire a session: 10 to 20 s.
func TestLockHolderCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a session to expire")
	}
	ctx := testContext(t)
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	d1, d2 := testDriverAt(t, addr, prefix), testDriverAt(t, addr, prefix)
	s1, s2 := testSession(t, d1), testSession(t, d2)
	a, _ := d1.OpenLock(ctx, testID("l"))
	b, _ := d2.OpenLock(ctx, testID("l"))
	va, _, err := a.Acquire(ctx, s1)
	if err != nil {
		t.Fatal(err)
	}
	crashed := time.Now()
	d1.crash()
	vb, _, err := b.Acquire(ctx, s2)
	if err != nil || vb <= va {
		t.Fatalf("Acquire after the holder crashed = %d, %v", vb, err)
	}
	if waited := time.Since(crashed); waited < 10*time.Second {
		t.Fatalf("the lock was free %v after the crash, before the session TTL", waited)
	} else {
		t.Logf("the lock was free %v after the holder crashed", waited)
	}
}

func TestSessionEndsWhenInvalidated(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	s := testSession(t, d)
	l, _ := d.OpenLock(ctx, testID("l"))
	_, lost, err := l.Acquire(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	// Destroyed behind the driver's back: the lock key goes, and the
	// holder learns it from its monitor, the session from its renewal.
	if _, err := d.client.Session().Destroy(s.ID(), nil); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(lost, 5*time.Second) {
		t.Fatal("lost channel open after the session was destroyed")
	}
	if !closedWithin(s.Done(), 10*time.Second) {
		t.Fatal("Done open after the session was destroyed")
	}
	if _, _, err := l.Acquire(ctx, s); !errors.Is(err, driver.ErrClosed) {
		t.Fatalf("Acquire with an ended session: %v", err)
	}
}
