package memory

import (
	"context"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

func TestSessionLivesWhileItsConnectionDoes(t *testing.T) {
	_, clock, connect := newTestStore(t)
	d := connect()
	s := newSession(t, d)
	clock.Advance(100 * testTTL)
	if !open(s.Done()) {
		t.Fatal("the session of a live connection expired")
	}
}

func TestSessionExpiresOneTTLAfterCrash(t *testing.T) {
	ctx := context.Background()
	_, clock, connect := newTestStore(t)
	a, b := connect(), connect()
	sa, sb := newSession(t, a), newSession(t, b)

	la, _ := a.OpenLock(ctx, id("l"))
	lb, _ := b.OpenLock(ctx, id("l"))
	ha, err := la.Acquire(ctx, sa, "a")
	must(t, "a acquires", err)
	va := ha.Version
	ea, _ := a.OpenElection(ctx, id("e"))
	eb, _ := b.OpenElection(ctx, id("e"))
	_, err = ea.Enter(ctx, sa, "a")
	must(t, "a enters", err)
	t1, err := eb.Enter(ctx, sb, "b")
	must(t, "b enters", err)
	if t1.Leader != "a" {
		t.Fatalf("leader %q, want a", t1.Leader)
	}

	got := make(chan uint64, 1)
	go func() {
		h, _ := lb.Acquire(ctx, sb, "b") // 0 on error
		got <- h.Version
	}()
	waitQueued(t, la.(*lock).state, 1)

	clock.Advance(testTTL / 2)
	a.Crash()
	// After a crash nothing is released before the TTL has passed.
	clock.Advance(testTTL / 2)
	if !open(sa.Done()) || !open(ha.Gone) {
		t.Fatal("a crashed session was released before its TTL")
	}
	if v, held, _ := lb.Holder(ctx); !held || v != va {
		t.Fatalf("Holder = %d, %v; want %d, true", v, held, va)
	}
	_, _, err = la.Holder(ctx)
	wantErr(t, "call on a crashed driver", err, driver.ErrClosed)

	clock.Advance(testTTL)
	if !closed(sa.Done()) {
		t.Fatal("the crashed session did not expire")
	}
	if !closed(ha.Gone) {
		t.Fatal("the crashed holder's Gone channel was not closed")
	}
	select {
	case vb := <-got:
		if vb <= va {
			t.Fatalf("next holder got version %d, not above %d", vb, va)
		}
	case <-time.After(time.Second):
		t.Fatal("the waiter did not get the lock after the holder's session expired")
	}
	term, err := eb.Term(ctx)
	must(t, "term", err)
	if term.Leader != "b" || term.Term != t1.Term+1 || len(term.Candidates) != 1 {
		t.Fatalf("term after expiry = %+v, want b leading in term %d alone", term, t1.Term+1)
	}
	if !open(sb.Done()) {
		t.Fatal("the live session ended too")
	}
}

func TestSessionCloseReleasesAtOnce(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	s := newSession(t, d)
	l, _ := d.OpenLock(ctx, id("l"))
	h, err := l.Acquire(ctx, s, "me")
	must(t, "acquire", err)
	must(t, "close session", s.Close(ctx))
	if !closed(h.Gone) || !closed(s.Done()) {
		t.Fatal("closing the session did not release its lock and close Done")
	}
	if _, held, _ := l.Holder(ctx); held {
		t.Fatal("the lock is still held")
	}
	must(t, "second close", s.Close(ctx))
	_, err = l.Acquire(ctx, s, "me")
	wantErr(t, "acquire with an ended session", err, driver.ErrClosed)
}

func TestSessionTTLOptions(t *testing.T) {
	ctx := context.Background()
	_, clock, connect := newTestStore(t, WithDefaultSessionTTL(time.Minute))
	d := connect()
	_, err := d.NewSession(ctx, driver.SessionOptions{TTL: -time.Second})
	wantErr(t, "negative TTL", err, driver.ErrInvalid)

	def, err := d.NewSession(ctx, driver.SessionOptions{})
	must(t, "default TTL", err)
	tiny, err := d.NewSession(ctx, driver.SessionOptions{TTL: time.Nanosecond})
	must(t, "tiny TTL", err)
	d.Crash()
	clock.Advance(MinSessionTTL - time.Nanosecond)
	if !open(tiny.Done()) {
		t.Fatal("a tiny TTL was not rounded up to MinSessionTTL")
	}
	clock.Advance(time.Nanosecond)
	if !closed(tiny.Done()) {
		t.Fatal("a session with MinSessionTTL outlived it")
	}
	clock.Advance(time.Minute - MinSessionTTL - time.Nanosecond)
	if !open(def.Done()) {
		t.Fatal("a session with the default TTL expired early")
	}
	clock.Advance(time.Nanosecond)
	if !closed(def.Done()) {
		t.Fatal("a session with the default TTL outlived it")
	}
}

func TestSessionsFromAnotherStoreAreRejected(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	other := New()
	defer other.Close(ctx)
	s := newSession(t, other)
	l, _ := connect().OpenLock(ctx, id("l"))
	_, err := l.Acquire(ctx, s, "me")
	wantErr(t, "foreign session", err, driver.ErrInvalid)
}

func TestDriverCloseReleasesEverything(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	a, b := connect(), connect()
	sa := newSession(t, a)
	la, _ := a.OpenLock(ctx, id("l"))
	h, err := la.Acquire(ctx, sa, "a")
	must(t, "acquire", err)
	ea, _ := a.OpenElection(ctx, id("e"))
	_, err = ea.Enter(ctx, sa, "a")
	must(t, "enter", err)
	m, _ := a.OpenMap(ctx, id("m"))
	events := make(chan driver.EntryEvent)
	must(t, "watch", m.Watch(ctx, events))

	must(t, "close", a.Close(ctx))
	if !closed(h.Gone) || !closed(sa.Done()) {
		t.Fatal("closing the driver did not release its lock and end its session")
	}
	if _, ok := <-events; ok {
		t.Fatal("a watch outlived its driver")
	}
	eb, _ := b.OpenElection(ctx, id("e"))
	if term, _ := eb.Term(ctx); term.Leader != "" {
		t.Fatalf("candidate %q survived its driver's Close", term.Leader)
	}
	_, err = m.Get(ctx, "k")
	wantErr(t, "get after driver close", err, driver.ErrClosed)
	_, err = a.OpenMap(ctx, id("m"))
	wantErr(t, "open after driver close", err, driver.ErrClosed)
	_, err = a.NewSession(ctx, driver.SessionOptions{})
	wantErr(t, "new session after driver close", err, driver.ErrClosed)
	must(t, "second close", a.Close(ctx))
}
