package redis

import (
	"context"
	"slices"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

func openTestSemaphore(t *testing.T, d *Driver, id driver.ID, limit int) *semaphore {
	t.Helper()
	s, err := d.OpenSemaphore(testContext(t), id, limit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s.(*semaphore)
}

// longSession is a session whose lease outlives the test's checks, so that
// no waiter's expiry timer fires while scripts are counted.
func longSession(t *testing.T, d *Driver) driver.Session {
	t.Helper()
	s, err := d.NewSession(testContext(t), driver.SessionOptions{TTL: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

type acquired struct {
	h   driver.Hold
	err error
}

func acquireAsync(ctx context.Context, s driver.Semaphore, ss driver.Session, owner string, n int) <-chan acquired {
	ch := make(chan acquired, 1)
	go func() {
		h, err := s.Acquire(ctx, ss, owner, n)
		ch <- acquired{h, err}
	}()
	return ch
}

// queued waits until n owners wait in s's queue.
func queued(t *testing.T, s *semaphore, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := s.client().ZCard(testContext(t), s.keys.names[2]).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters queued, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ownerScripts counts the scripts run with one of its owners among their
// arguments.
type ownerScripts struct {
	scriptCounter
	owners []string
}

func (c *ownerScripts) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		for _, a := range cmd.Args() {
			if s, ok := a.(string); ok && slices.Contains(c.owners, s) {
				c.n.Add(1)
				break
			}
		}
		return next(ctx, cmd)
	}
}

// TestSemaphoreWakesOnlyTheGrantedWaiter checks that a release wakes only
// the waiter it lets in: with three waiters queued, the waiters behind the
// first run no script when the holder releases.
func TestSemaphoreWakesOnlyTheGrantedWaiter(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	counter := &ownerScripts{owners: []string{"second", "third"}}
	d.client.AddHook(counter)
	s := openTestSemaphore(t, d, testID(t, "s"), 2)
	ss := longSession(t, d)
	h, err := s.Acquire(ctx, ss, "holder", 2)
	if err != nil {
		t.Fatal(err)
	}
	first := acquireAsync(ctx, s, ss, "first", 2)
	queued(t, s, 1)
	second := acquireAsync(ctx, s, ss, "second", 1)
	queued(t, s, 2)
	third := acquireAsync(ctx, s, ss, "third", 1)
	queued(t, s, 3)
	time.Sleep(100 * time.Millisecond) // the waiters are asleep
	before := counter.n.Load()
	if ok, err := s.Release(ctx, "holder", h.Version); err != nil || !ok {
		t.Fatalf("Release = %v, %v", ok, err)
	}
	r := <-first
	if r.err != nil || r.h.Version <= h.Version {
		t.Fatalf("the first waiter got %+v, %v after version %d", r.h, r.err, h.Version)
	}
	time.Sleep(300 * time.Millisecond)
	if n := counter.n.Load() - before; n != 0 {
		t.Errorf("the waiters behind the one granted ran %d scripts after the release, want 0", n)
	}
	for _, w := range []<-chan acquired{second, third} {
		select {
		case r := <-w:
			t.Fatalf("a waiter behind the holder of every permit returned %+v, %v", r.h, r.err)
		default:
		}
	}
	// The release of every permit grants both, in order.
	if ok, err := s.Release(ctx, "first", r.h.Version); err != nil || !ok {
		t.Fatalf("Release = %v, %v", ok, err)
	}
	r2, r3 := <-second, <-third
	if r2.err != nil || r3.err != nil || !(r.h.Version < r2.h.Version && r2.h.Version < r3.h.Version) {
		t.Fatalf("the second and third waiters got %+v, %v and %+v, %v", r2.h, r2.err, r3.h, r3.err)
	}
}

// TestSemaphoreForgedGrant publishes a grant for a queued waiter that was
// granted nothing: the waiter checks, finds itself still queued, and keeps
// waiting; the genuine release then grants it.
func TestSemaphoreForgedGrant(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	counter := &scriptCounter{}
	d.client.AddHook(counter)
	s := openTestSemaphore(t, d, testID(t, "s"), 1)
	ss := longSession(t, d)
	h, err := s.Acquire(ctx, ss, "holder", 1)
	if err != nil {
		t.Fatal(err)
	}
	w := acquireAsync(ctx, s, ss, "waiter", 1)
	queued(t, s, 1)
	before := counter.n.Load()
	if err := d.client.Publish(ctx, s.ks.channel(), "g waiter").Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for counter.n.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("the waiter did not run its attempt after hearing its grant")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case r := <-w:
		t.Fatalf("a forged grant ended the wait: %+v, %v", r.h, r.err)
	case <-time.After(200 * time.Millisecond):
	}
	if ok, err := s.Release(ctx, "holder", h.Version); err != nil || !ok {
		t.Fatalf("Release = %v, %v", ok, err)
	}
	if r := <-w; r.err != nil || r.h.Version <= h.Version {
		t.Fatalf("the waiter got %+v, %v after version %d", r.h, r.err, h.Version)
	}
}

// TestSemaphoreKeysShareASlot checks that every key a semaphore's scripts
// touch has the semaphore's hash tag, so that they run on a Redis Cluster.
func TestSemaphoreKeysShareASlot(t *testing.T) {
	s := openTestSemaphore(t, newTestDriver(t), driver.ID{Namespace: "a{b}", Name: "c:d"}, 1)
	tag := s.ks.base[len(s.d.opts.KeyPrefix)+1:]
	for _, k := range s.keys.names {
		if got := hashTag(k); "{"+got+"}" != tag {
			t.Errorf("key %q hashes on %q, want the semaphore's tag %s", k, got, tag)
		}
	}
}

// TestSemaphoreWaiterKeepsNoRemovals checks that a waiter does not keep the
// removals it hears while it sleeps: releases of holds ahead of it, as many
// as there are, leave nothing in its listener.
func TestSemaphoreWaiterKeepsNoRemovals(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	s := openTestSemaphore(t, d, testID(t, "s"), 3)
	ss := longSession(t, d)
	holds := make([]driver.Hold, 3)
	owners := []string{"h0", "h1", "h2"}
	for i, o := range owners {
		h, err := s.Acquire(ctx, ss, o, 1)
		if err != nil {
			t.Fatal(err)
		}
		holds[i] = h
	}
	w := acquireAsync(ctx, s, ss, "waiter", 3)
	queued(t, s, 1)
	time.Sleep(50 * time.Millisecond) // the waiter sleeps
	for i := range 2 {
		if ok, err := s.Release(ctx, owners[i], holds[i].Version); err != nil || !ok {
			t.Fatalf("Release = %v, %v", ok, err)
		}
		if !closedWithin(holds[i].Gone, 5*time.Second) {
			t.Fatal("Gone not closed by the release")
		}
	}
	var kept int
	d.hub.mu.Lock()
	for l := range d.hub.channels[s.ks.channel()].listeners {
		if sw, ok := l.(*semWatch); ok && sw.grant == "g waiter" {
			sw.mu.Lock()
			kept = len(sw.heard)
			sw.mu.Unlock()
		}
	}
	d.hub.mu.Unlock()
	if kept != 0 {
		t.Errorf("the sleeping waiter kept %d removals it heard", kept)
	}
	if ok, err := s.Release(ctx, owners[2], holds[2].Version); err != nil || !ok {
		t.Fatalf("Release = %v, %v", ok, err)
	}
	if r := <-w; r.err != nil || r.h.Version <= holds[2].Version {
		t.Fatalf("the waiter got %+v, %v", r.h, r.err)
	}
}

// TestSemaphoreOwnReleaseReadsNoHold: as for the lock, a release through
// the hold's own instance ends the hold's Gone by itself; its message,
// heard before the release returns, makes no read of the hold.
func TestSemaphoreOwnReleaseReadsNoHold(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	reads := &holderReads{delay: 200 * time.Millisecond, read: semRead, release: semRelease}
	d.client.AddHook(reads)
	sem := openTestSemaphore(t, d, testID(t, "s"), 2)
	s := newSessionT(t, d)
	ownReleasesReadNoHold(t, d, reads, sem.ks.channel(),
		func() (driver.Hold, error) { return sem.Acquire(ctx, s, "o", 1) },
		func(v uint64) (bool, error) { return sem.Release(ctx, "o", v) })
}
