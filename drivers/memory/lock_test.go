package memory

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

func TestLockWaitersAreServedFIFOWithIncreasingVersions(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	s := newSession(t, d)
	const n = 5
	locks := make([]driver.Lock, n)
	for i := range locks {
		locks[i], _ = d.OpenLock(ctx, id("l"))
	}
	first, _, err := locks[0].Acquire(ctx, s)
	must(t, "first acquire", err)

	type grant struct {
		owner   int
		version uint64
		err     error
	}
	grants := make(chan grant, n)
	for i := 1; i < n; i++ {
		go func() {
			v, _, err := locks[i].Acquire(ctx, s)
			grants <- grant{i, v, err}
		}()
		waitQueued(t, locks[0].(*lock).state, i) // queue them in order 1..n-1
	}
	last := first
	holder := 0
	for want := 1; want < n; want++ {
		ok, err := locks[holder].Release(ctx)
		if !ok || err != nil {
			t.Fatalf("owner %d release = %v, %v", holder, ok, err)
		}
		g := recv(t, grants)
		must(t, "acquire", g.err)
		if g.owner != want || g.version <= last {
			t.Fatalf("grant %d went to owner %d with version %d after version %d; want owner %d with a higher version", want, g.owner, g.version, last, want)
		}
		last, holder = g.version, g.owner
	}
}

func TestLockAcquireByBusyOwnerConflicts(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	s := newSession(t, d)
	a, _ := d.OpenLock(ctx, id("l"))
	b, _ := d.OpenLock(ctx, id("l"))
	_, _, err := a.Acquire(ctx, s)
	must(t, "acquire", err)
	_, _, err = a.Acquire(ctx, s)
	wantErr(t, "acquire while holding", err, driver.ErrConflict)
	_, _, _, err = a.TryAcquire(ctx, s)
	wantErr(t, "try acquire while holding", err, driver.ErrConflict)

	done := make(chan error, 1)
	go func() { _, _, err := b.Acquire(ctx, s); done <- err }()
	waitQueued(t, a.(*lock).state, 1)
	_, _, err = b.Acquire(ctx, s)
	wantErr(t, "acquire while acquiring", err, driver.ErrConflict)
	if ok, _ := b.Release(ctx); ok {
		t.Fatal("a waiter's Release reported releasing the lock")
	}
	a.Release(ctx)
	must(t, "waiter acquires", recv(t, done))
}

func TestLockCanceledWaiterLeavesNothingQueued(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	s := newSession(t, d)
	a, _ := d.OpenLock(ctx, id("l"))
	b, _ := d.OpenLock(ctx, id("l"))
	c, _ := d.OpenLock(ctx, id("l"))
	va, _, err := a.Acquire(ctx, s)
	must(t, "a acquires", err)

	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, _, err := b.Acquire(cctx, s); done <- err }()
	waitQueued(t, a.(*lock).state, 1)
	cancel()
	wantErr(t, "canceled acquire", recv(t, done), context.Canceled)
	waitQueued(t, a.(*lock).state, 0)

	tctx, stop := context.WithTimeout(ctx, 10*time.Millisecond)
	defer stop()
	_, _, err = c.Acquire(tctx, s)
	wantErr(t, "acquire past its deadline", err, context.DeadlineExceeded)
	waitQueued(t, a.(*lock).state, 0)

	a.Release(ctx)
	if _, held, _ := a.Holder(ctx); held {
		t.Fatal("a withdrawn waiter got the lock")
	}
	vb, _, ok, err := b.TryAcquire(ctx, s)
	if !ok || err != nil || vb <= va {
		t.Fatalf("TryAcquire after the withdrawn wait = %d, %v, %v; want a version above %d", vb, ok, err, va)
	}
}

func TestLockTryAcquireLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	s := newSession(t, d)
	a, _ := d.OpenLock(ctx, id("l"))
	b, _ := d.OpenLock(ctx, id("l"))
	va, _, ok, err := a.TryAcquire(ctx, s)
	if !ok || err != nil || va == 0 {
		t.Fatalf("TryAcquire on a free lock = %d, %v, %v", va, ok, err)
	}
	if _, _, ok, err := b.TryAcquire(ctx, s); ok || err != nil {
		t.Fatalf("TryAcquire on a held lock = %v, %v", ok, err)
	}
	waitQueued(t, a.(*lock).state, 0)
	a.Release(ctx)
	if _, held, _ := a.Holder(ctx); held {
		t.Fatal("a failed TryAcquire left a waiter that got the lock")
	}
}

func TestLockLostClosesWhenTheHoldEnds(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	s := newSession(t, d)
	a, _ := d.OpenLock(ctx, id("l"))
	b, _ := d.OpenLock(ctx, id("l"))

	v, lost, err := a.Acquire(ctx, s)
	must(t, "acquire", err)
	if ok, _ := b.ReleaseVersion(ctx, v+1); ok {
		t.Fatal("ReleaseVersion of a wrong version released the lock")
	}
	if !open(lost) {
		t.Fatal("lost closed while the hold lasts")
	}
	if ok, _ := b.ReleaseVersion(ctx, v); !ok || !closed(lost) {
		t.Fatal("ReleaseVersion by another owner did not end the hold and close lost")
	}
	if ok, _ := a.Release(ctx); ok {
		t.Fatal("Release after losing the hold reported releasing it")
	}

	v2, lost, err := a.Acquire(ctx, s)
	must(t, "acquire again after losing the hold", err)
	if v2 <= v {
		t.Fatalf("version %d not above %d", v2, v)
	}
	if got, held, _ := b.Holder(ctx); !held || got != v2 {
		t.Fatalf("Holder = %d, %v; want %d, true", got, held, v2)
	}
	must(t, "close", a.Close(ctx))
	if !closed(lost) {
		t.Fatal("Close did not end the hold")
	}
	if _, held, _ := b.Holder(ctx); held {
		t.Fatal("the lock is held after its holder closed")
	}
	_, err = a.Release(ctx)
	wantErr(t, "release after close", err, driver.ErrClosed)
}

func TestLockCloseAbandonsAcquire(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	s := newSession(t, d)
	a, _ := d.OpenLock(ctx, id("l"))
	b, _ := d.OpenLock(ctx, id("l"))
	_, _, err := a.Acquire(ctx, s)
	must(t, "acquire", err)
	done := make(chan error, 1)
	go func() { _, _, err := b.Acquire(ctx, s); done <- err }()
	waitQueued(t, a.(*lock).state, 1)
	must(t, "close waiter", b.Close(ctx))
	wantErr(t, "acquire abandoned by Close", recv(t, done), driver.ErrClosed)
	waitQueued(t, a.(*lock).state, 0)
}

func TestLockVersionsIncreaseUnderContention(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	const owners, rounds = 8, 50
	var (
		mu      sync.Mutex
		last    uint64
		holders int
		grants  int
		wg      sync.WaitGroup
	)
	for range owners {
		d := connect()
		s := newSession(t, d)
		l, _ := d.OpenLock(ctx, id("l"))
		wg.Go(func() {
			for range rounds {
				v, _, err := l.Acquire(ctx, s)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				holders++
				grants++
				if holders != 1 || v <= last {
					t.Errorf("version %d after %d with %d holders", v, last, holders)
				}
				last = v
				mu.Unlock()
				runtime.Gosched() // give another owner the chance to break in
				mu.Lock()
				holders--
				mu.Unlock()
				if ok, err := l.Release(ctx); !ok || err != nil {
					t.Errorf("release = %v, %v", ok, err)
				}
			}
		})
	}
	wg.Wait()
	if grants != owners*rounds {
		t.Fatalf("%d grants, want %d", grants, owners*rounds)
	}
}
