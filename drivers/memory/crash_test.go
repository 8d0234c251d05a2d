package memory

import (
	"context"
	"testing"

	"github.com/atomix/go-client/driver"
	"go.uber.org/goleak"
)

func TestCrashedWaiterStaysQueuedUntilItsSessionExpires(t *testing.T) {
	ctx := context.Background()
	_, clock, connect := newTestStore(t)
	holder, crashing, waiter := connect(), connect(), connect()
	sh, sc, sw := newSession(t, holder), newSession(t, crashing), newSession(t, waiter)
	lh, _ := holder.OpenLock(ctx, id("l"))
	lc, _ := crashing.OpenLock(ctx, id("l"))
	lw, _ := waiter.OpenLock(ctx, id("l"))
	h1, err := lh.Acquire(ctx, sh, "holder")
	must(t, "holder acquires", err)
	v1 := h1.Version

	crashed := make(chan error, 1)
	go func() { _, err := lc.Acquire(ctx, sc, "crashing"); crashed <- err }()
	waitQueued(t, lh.(*lock).state, 1)
	type grant struct {
		version uint64
		err     error
	}
	granted := make(chan grant, 1)
	go func() { h, err := lw.Acquire(ctx, sw, "waiter"); granted <- grant{h.Version, err} }()
	waitQueued(t, lh.(*lock).state, 2)

	crashing.Crash()
	wantErr(t, "acquire on a crashing driver", recv(t, crashed), driver.ErrClosed)
	waitQueued(t, lh.(*lock).state, 2) // the dead waiter keeps its place

	ok, err := lh.Release(ctx, "holder", v1)
	if !ok || err != nil {
		t.Fatalf("release = %v, %v", ok, err)
	}
	v2, held, _ := lh.Holder(ctx)
	if !held || v2 <= v1 {
		t.Fatalf("Holder = %d, %v; want the dead waiter holding a version above %d", v2, held, v1)
	}
	select {
	case g := <-granted:
		t.Fatalf("the live waiter got the lock (%+v) while a dead one was ahead of it", g)
	default:
	}

	clock.Advance(testTTL)
	g := recv(t, granted)
	must(t, "live waiter acquires", g.err)
	if g.version <= v2 {
		t.Fatalf("live waiter got version %d, not above %d", g.version, v2)
	}
}

func TestNoGoroutineOutlivesItsDriver(t *testing.T) {
	before := goleak.IgnoreCurrent()
	ctx := context.Background()
	s := NewStore()
	for _, crash := range []bool{false, true} {
		d := s.Connect()
		sess, err := d.NewSession(ctx, driver.SessionOptions{})
		must(t, "session", err)
		m, _ := d.OpenMap(ctx, id("m"))
		must(t, "watch map", m.Watch(ctx, make(chan driver.EntryEvent)))
		e, _ := d.OpenElection(ctx, id("e"))
		must(t, "watch election", e.Watch(ctx, make(chan driver.Term)))
		e.Enter(ctx, sess, "me")
		l, _ := d.OpenList(ctx, id("l"))
		must(t, "watch list", l.Watch(ctx, make(chan driver.ListEvent)))
		l.Append(ctx, []byte("pending, never read"))
		if crash {
			d.Crash()
		} else {
			must(t, "close", d.Close(ctx))
		}
		goleak.VerifyNone(t, before)
	}
}

// TestSessionCause: a session's Cause is nil while it lives,
// ErrSessionClosed once closed, ErrSessionExpired once its crashed
// connection's TTL passed; and it is set when a hold bound to the session
// sees its Gone close, which may be before Done.
func TestSessionCause(t *testing.T) {
	ctx := context.Background()
	_, clock, connect := newTestStore(t)
	closing, crashing := connect(), connect()
	cause := func(s driver.Session) error { return s.(driver.SessionCause).Cause() }

	sc := newSession(t, closing)
	l, _ := closing.OpenLock(ctx, id("l"))
	h, err := l.Acquire(ctx, sc, "owner")
	must(t, "acquire", err)
	if err := cause(sc); err != nil {
		t.Fatalf("Cause of a live session = %v, want nil", err)
	}
	atGone := make(chan error, 1)
	go func() { <-h.Gone; atGone <- cause(sc) }()
	must(t, "close the session", sc.Close(ctx))
	if err := recv(t, atGone); err != ErrSessionClosed {
		t.Fatalf("Cause when the hold's Gone closed = %v, want ErrSessionClosed", err)
	}

	sx := newSession(t, crashing)
	crashing.Crash()
	if err := cause(sx); err != nil {
		t.Fatalf("Cause of a crashed session within its TTL = %v, want nil", err)
	}
	clock.Advance(testTTL)
	<-sx.Done()
	if err := cause(sx); err != ErrSessionExpired {
		t.Fatalf("Cause of an expired session = %v, want ErrSessionExpired", err)
	}
}
