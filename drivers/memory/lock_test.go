package memory

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

func TestLockWaitersAreServedFIFOWithIncreasingVersions(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	s := newSession(t, d)
	l, _ := d.OpenLock(ctx, id("l"))
	const n = 5
	owner := func(i int) string { return "owner-" + strconv.Itoa(i) }
	first, err := l.Acquire(ctx, s, owner(0))
	must(t, "first acquire", err)

	type grant struct {
		owner int
		hold  driver.Hold
		err   error
	}
	grants := make(chan grant, n)
	for i := 1; i < n; i++ {
		go func() {
			h, err := l.Acquire(ctx, s, owner(i))
			grants <- grant{i, h, err}
		}()
		waitQueued(t, l.(*lock).state, i) // queue them in order 1..n-1
	}
	last := first
	holder := 0
	for want := 1; want < n; want++ {
		ok, err := l.Release(ctx, owner(holder), last.Version)
		if !ok || err != nil {
			t.Fatalf("owner %d release = %v, %v", holder, ok, err)
		}
		if !closed(last.Gone) {
			t.Fatalf("owner %d released, but its Gone is open", holder)
		}
		g := recv(t, grants)
		must(t, "acquire", g.err)
		if g.owner != want || g.hold.Version <= last.Version {
			t.Fatalf("grant %d went to owner %d with version %d after version %d; want owner %d with a higher version", want, g.owner, g.hold.Version, last.Version, want)
		}
		last, holder = g.hold, g.owner
	}
}

func TestLockReleaseMatchesOwnerAndVersion(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	s := newSession(t, d)
	a, _ := d.OpenLock(ctx, id("l"))
	b, _ := d.OpenLock(ctx, id("l"))

	h, err := a.Acquire(ctx, s, "a")
	must(t, "acquire", err)
	for _, try := range []struct {
		owner   string
		version uint64
	}{{"b", h.Version}, {"a", h.Version + 1}} {
		if ok, err := b.Release(ctx, try.owner, try.version); ok || err != nil {
			t.Fatalf("Release(%q, %d) of a's hold %d = %v, %v; want false", try.owner, try.version, h.Version, ok, err)
		}
	}
	if ok, _ := b.ReleaseVersion(ctx, h.Version+1); ok {
		t.Fatal("ReleaseVersion of a wrong version released the lock")
	}
	if !open(h.Gone) {
		t.Fatal("Gone closed while the hold lasts")
	}
	if ok, _ := b.ReleaseVersion(ctx, h.Version); !ok || !closed(h.Gone) {
		t.Fatal("ReleaseVersion through another instance did not end the hold and close Gone")
	}
	if ok, _ := a.Release(ctx, "a", h.Version); ok {
		t.Fatal("Release of a hold that already ended reported releasing it")
	}

	h2, err := a.Acquire(ctx, s, "a")
	must(t, "acquire again", err)
	if got, held, _ := b.Holder(ctx); !held || got != h2.Version || h2.Version <= h.Version {
		t.Fatalf("Holder = %d, %v after versions %d, %d", got, held, h.Version, h2.Version)
	}
	must(t, "close session", s.Close(ctx))
	if !closed(h2.Gone) {
		t.Fatal("the session's end did not close Gone")
	}
	if _, held, _ := b.Holder(ctx); held {
		t.Fatal("the lock is held after its holder's session ended")
	}
}

func TestLockAbandonedAttemptsLeaveNothingQueued(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	s := newSession(t, d)
	l, _ := d.OpenLock(ctx, id("l"))
	closing, _ := d.OpenLock(ctx, id("l"))
	st := l.(*lock).state
	ha, err := l.Acquire(ctx, s, "a")
	must(t, "a acquires", err)

	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := l.Acquire(cctx, s, "canceled"); done <- err }()
	waitQueued(t, st, 1)
	cancel()
	wantErr(t, "canceled acquire", recv(t, done), context.Canceled)
	waitQueued(t, st, 0)

	tctx, stop := context.WithTimeout(ctx, 10*time.Millisecond)
	defer stop()
	_, err = l.Acquire(tctx, s, "late")
	wantErr(t, "acquire past its deadline", err, context.DeadlineExceeded)
	waitQueued(t, st, 0)

	if _, ok, err := l.TryAcquire(ctx, s, "try"); ok || err != nil {
		t.Fatalf("TryAcquire on a held lock = %v, %v", ok, err)
	}
	waitQueued(t, st, 0)

	go func() { _, err := closing.Acquire(ctx, s, "closing"); done <- err }()
	waitQueued(t, st, 1)
	must(t, "close the waiting instance", closing.Close(ctx))
	wantErr(t, "acquire cut short by Close", recv(t, done), driver.ErrClosed)
	waitQueued(t, st, 0)

	l.Release(ctx, "a", ha.Version)
	if _, held, _ := l.Holder(ctx); held {
		t.Fatal("an abandoned attempt got the lock")
	}
	hb, ok, err := l.TryAcquire(ctx, s, "b")
	if !ok || err != nil || hb.Version <= ha.Version {
		t.Fatalf("TryAcquire of the free lock = %d, %v, %v; want a version above %d", hb.Version, ok, err, ha.Version)
	}
}

// A waiter whose session ends gets an error only once the session's Done
// is closed, so that the portable layer sees why and waits again.
func TestLockWaiterFailsAfterItsSessionEnded(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	holding, waiting := newSession(t, d), newSession(t, d)
	l, _ := d.OpenLock(ctx, id("l"))
	_, err := l.Acquire(ctx, holding, "a")
	must(t, "a acquires", err)
	done := make(chan error, 1)
	go func() {
		_, err := l.Acquire(ctx, waiting, "b")
		if open(waiting.Done()) {
			t.Error("Acquire returned before its session's Done closed")
		}
		done <- err
	}()
	waitQueued(t, l.(*lock).state, 1)
	must(t, "close the waiter's session", waiting.Close(ctx))
	wantErr(t, "acquire with a session that ended", recv(t, done), driver.ErrClosed)
	waitQueued(t, l.(*lock).state, 0)
	_, err = l.Acquire(ctx, waiting, "b")
	wantErr(t, "acquire with an ended session", err, driver.ErrClosed)
}

// waitQueued waits until n owners wait in the queue of st.
func waitQueued(t *testing.T, st *lockState, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st.mu.Lock()
		queued := len(st.queue)
		st.mu.Unlock()
		if queued == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters queued, want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}
