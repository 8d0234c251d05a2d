package redis

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// scriptCounter counts the scripts a client runs.
type scriptCounter struct{ n atomic.Int64 }

func (c *scriptCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (c *scriptCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}
func (c *scriptCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if n := cmd.Name(); n == "evalsha" || n == "eval" {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func newSessionT(t *testing.T, d *Driver) *session {
	t.Helper()
	s, err := d.NewSession(testContext(t), driver.SessionOptions{TTL: testTTL})
	if err != nil {
		t.Fatal(err)
	}
	return s.(*session)
}

func openTestLock(t *testing.T, d *Driver, id driver.ID) driver.Lock {
	t.Helper()
	l, err := d.OpenLock(testContext(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func closedWithin(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	default:
	}
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// TestLockExpiresWithCrashedHolder checks that a crashed holder's lock goes
// to a waiter within about a TTL, with a greater version, and that the
// waiter did not poll meanwhile.
func TestLockExpiresWithCrashedHolder(t *testing.T) {
	ctx := testContext(t)
	a, b := newTestDriver(t), newTestDriver(t)
	counter := &scriptCounter{}
	b.client.AddHook(counter)
	id := testID(t, "l")
	va, _, err := openTestLock(t, a, id).Acquire(ctx, newSessionT(t, a))
	if err != nil {
		t.Fatal(err)
	}
	lb := openTestLock(t, b, id)
	sb := newSessionT(t, b)
	if _, _, ok, err := lb.TryAcquire(ctx, sb); err != nil || ok {
		t.Fatalf("TryAcquire of a held lock = %v, %v", ok, err)
	}
	crashed := time.Now()
	a.Crash()
	vb, lost, err := lb.Acquire(ctx, sb)
	if err != nil {
		t.Fatal(err)
	}
	waited := time.Since(crashed)
	if vb <= va {
		t.Fatalf("version after expiry %d <= %d", vb, va)
	}
	if waited > testTTL+time.Second {
		t.Fatalf("the lock was free after %v, want about the TTL %v", waited, testTTL)
	}
	// One failed try, one attempt on entering Acquire, one when the lease
	// would expire, and maybe one more if the release message came first.
	if n := counter.n.Load(); n > 5 {
		t.Fatalf("%d scripts while waiting about a TTL: polling", n)
	}
	if closedWithin(lost, 0) {
		t.Fatal("lost closed while holding")
	}
}

// TestLockHandoffIsPrompt checks that a waiter gets a released lock at
// once, woken by the release message.
func TestLockHandoffIsPrompt(t *testing.T) {
	ctx := testContext(t)
	a, b := newTestDriver(t), newTestDriver(t)
	id := testID(t, "l")
	la, lb := openTestLock(t, a, id), openTestLock(t, b, id)
	sa, sb := newSessionT(t, a), newSessionT(t, b)
	va, _, err := la.Acquire(ctx, sa)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan uint64, 1)
	go func() {
		v, _, err := lb.Acquire(ctx, sb)
		if err != nil {
			t.Error(err)
		}
		got <- v
	}()
	time.Sleep(200 * time.Millisecond) // b is waiting
	released := time.Now()
	if ok, err := la.Release(ctx); err != nil || !ok {
		t.Fatalf("Release = %v, %v", ok, err)
	}
	select {
	case vb := <-got:
		if vb <= va {
			t.Fatalf("version %d after %d", vb, va)
		}
		if d := time.Since(released); d > testTTL/2 {
			t.Fatalf("handoff took %v: the waiter was not woken", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter did not get the lock")
	}
}

// TestLockLostByReleaseVersion checks that a holder learns at once that
// another owner released its hold.
func TestLockLostByReleaseVersion(t *testing.T) {
	ctx := testContext(t)
	a, b := newTestDriver(t), newTestDriver(t)
	id := testID(t, "l")
	la, lb := openTestLock(t, a, id), openTestLock(t, b, id)
	v, lost, err := la.Acquire(ctx, newSessionT(t, a))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := lb.ReleaseVersion(ctx, v+1); err != nil || ok {
		t.Fatalf("ReleaseVersion of another version = %v, %v", ok, err)
	}
	if ok, err := lb.ReleaseVersion(ctx, v); err != nil || !ok {
		t.Fatalf("ReleaseVersion = %v, %v", ok, err)
	}
	if !closedWithin(lost, 2*time.Second) {
		t.Fatal("lost not closed after another owner released the hold")
	}
	if ok, err := la.Release(ctx); err != nil || ok {
		t.Fatalf("Release after losing the hold = %v, %v", ok, err)
	}
}

// TestLockLostWhenSessionKeyVanishes checks that a holder whose session key
// is gone (as after a long pause) learns it within a renewal period.
func TestLockLostWhenSessionKeyVanishes(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	l := openTestLock(t, d, testID(t, "l"))
	s := newSessionT(t, d)
	_, lost, err := l.Acquire(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.client.Del(ctx, s.key).Err(); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(s.Done(), testTTL) {
		t.Fatal("session not done after its key vanished")
	}
	if !closedWithin(lost, time.Second) {
		t.Fatal("lost not closed after the session ended")
	}
}

// TestLockLostWhenRenewalFails checks that a holder cut off from the
// server learns it lost the lock no later than the server can expire it.
func TestLockLostWhenRenewalFails(t *testing.T) {
	ctx := testContext(t)
	p := newFaultyProxy(t, testbackend.Redis(t))
	d, err := New(&goredis.UniversalOptions{Addrs: []string{p.addr}, ContextTimeoutEnabled: true, MaxRetries: -1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	l := openTestLock(t, d, testID(t, "l"))
	s := newSessionT(t, d)
	_, lost, err := l.Acquire(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	p.mute.Store(true)
	cut := time.Now()
	if !closedWithin(lost, 2*testTTL) {
		t.Fatal("lost not closed while renewals failed")
	}
	closed := time.Now()
	// While replies are lost the session can only end by its deadline: a
	// TTL after the last renewal the server answered was sent, which is
	// no later than when the server can expire the hold. That rule is what
	// is checked; the instant lost closes is the deadline plus however
	// late the scheduler runs the timer, which no test can bound.
	s.mu.Lock()
	last := s.lastRenew
	s.mu.Unlock()
	if last.After(cut) {
		t.Fatalf("the session counts its TTL from a renewal sent %v after the cut, whose reply was lost", last.Sub(cut))
	}
	if d := closed.Sub(last); d < testTTL {
		t.Fatalf("lost closed %v after the last renewal was sent, before the TTL %v", d, testTTL)
	}
	p.mute.Store(false)
}

// TestAcquireCancelledLeavesNothing checks that a waiter whose context
// ends returns its error and leaves nothing behind.
func TestAcquireCancelledLeavesNothing(t *testing.T) {
	ctx := testContext(t)
	a, b := newTestDriver(t), newTestDriver(t)
	id := testID(t, "l")
	la, lb := openTestLock(t, a, id), openTestLock(t, b, id)
	sa, sb := newSessionT(t, a), newSessionT(t, b)
	if _, _, err := la.Acquire(ctx, sa); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, _, err := lb.Acquire(wctx, sb); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire with an ending context: %v", err)
	}
	if _, err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	lc := openTestLock(t, a, id)
	if _, _, ok, err := lc.TryAcquire(ctx, sa); err != nil || !ok {
		t.Fatalf("TryAcquire after the waiter gave up = %v, %v", ok, err)
	}
	if v, held, err := lb.Holder(ctx); err != nil || !held || v == 0 {
		t.Fatalf("Holder = %d, %v, %v", v, held, err)
	}
}
