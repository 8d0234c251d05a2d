package etcd

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// lockOwner is one owner of a lock, with a driver and session of its own.
type lockOwner struct {
	d       *Driver
	s       *session
	l       *etcdLock
	watched *watchRecorder
}

func newLockOwner(t *testing.T, prefix string, id driver.ID) *lockOwner {
	d := newTestDriver(t, prefix)
	w := recordWatches(d)
	l, err := d.OpenLock(testContext(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return &lockOwner{d: d, s: newTestSession(t, d, 0), l: l.(*etcdLock), watched: w}
}

// watchRecorder records the keys a driver watches.
type watchRecorder struct {
	clientv3.Watcher
	mu   sync.Mutex
	keys []string
}

func (w *watchRecorder) Watch(ctx context.Context, key string, opts ...clientv3.OpOption) clientv3.WatchChan {
	w.mu.Lock()
	w.keys = append(w.keys, key)
	w.mu.Unlock()
	return w.Watcher.Watch(ctx, key, opts...)
}

func (w *watchRecorder) seen() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.keys...)
}

func recordWatches(d *Driver) *watchRecorder {
	w := &watchRecorder{Watcher: d.client.Watcher}
	d.client.Watcher = w
	return w
}

// waitWatches waits until the owner's driver has started n watches (or
// more: the caller checks which), failing t after 10s.
func (o *lockOwner) waitWatches(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(o.watched.seen()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the owner started the watches %q, want %d", o.watched.seen(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// acquireResult is what an Acquire running in the background returned.
type acquireResult struct {
	version uint64
	lost    <-chan struct{}
	err     error
}

func (o *lockOwner) acquireAsync(ctx context.Context) <-chan acquireResult {
	ch := make(chan acquireResult, 1)
	go func() {
		v, lost, err := o.l.Acquire(ctx, o.s)
		ch <- acquireResult{v, lost, err}
	}()
	return ch
}

// queue returns the waiter keys of the lock, in create-revision order.
func queue(t *testing.T, l *etcdLock) []*mvccKV {
	t.Helper()
	resp, err := l.d.client.Get(testContext(t), l.prefix, clientv3.WithRange(l.end),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		t.Fatal(err)
	}
	return resp.Kvs
}

// waitQueue waits until the lock's queue has n keys.
func waitQueue(t *testing.T, l *etcdLock, n int) []*mvccKV {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		q := queue(t, l)
		if len(q) == n {
			return q
		}
		if time.Now().After(deadline) {
			t.Fatalf("lock queue has %d keys, want %d", len(q), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func notYet[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("%s happened too early", what)
	case <-time.After(200 * time.Millisecond):
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestLockQueueFencingAndHandoff: holders get the lock in queue order with
// strictly increasing versions, each waiter watching only its predecessor,
// and a waiter whose predecessor is the holder takes over with no request.
func TestLockQueueFencingAndHandoff(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b, c := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)

	va, lostA, err := a.l.Acquire(ctx, a.s)
	if err != nil {
		t.Fatal(err)
	}
	gotB := b.acquireAsync(ctx)
	waitQueue(t, a.l, 2)
	gotC := c.acquireAsync(ctx)
	q := waitQueue(t, a.l, 3)
	if uint64(q[0].CreateRevision) != va {
		t.Errorf("holder's version %d is not its key's create revision %d", va, q[0].CreateRevision)
	}
	notYet(t, gotB, "B's Acquire while A holds")

	// B waits on A (the head: no further request needed), C on B. Each
	// watches after its key is in the queue: wait for the watches.
	b.waitWatches(t, 1)
	c.waitWatches(t, 1)
	if w := b.watched.seen(); len(w) != 1 || w[0] != string(q[0].Key) {
		t.Errorf("B watched %q, want only A's key %q", w, q[0].Key)
	}
	if w := c.watched.seen(); len(w) != 1 || w[0] != string(q[1].Key) {
		t.Errorf("C watched %q, want only B's key %q", w, q[1].Key)
	}
	requestsB := countRequests(b.d)

	if ok, err := a.l.Release(ctx); err != nil || !ok {
		t.Fatalf("A Release = %v, %v", ok, err)
	}
	if !closed(lostA) {
		t.Error("A's lost channel is open after Release")
	}
	rb := receive(t, gotB, "B's Acquire")
	if rb.err != nil {
		t.Fatal(rb.err)
	}
	if rb.version <= va {
		t.Errorf("B's version %d is not above A's %d", rb.version, va)
	}
	if n := requestsB.requests(); n != 0 {
		t.Errorf("B sent %d requests to take over from the holder, want 0", n)
	}
	notYet(t, gotC, "C's Acquire while B holds")
	if v, held, err := a.l.Holder(ctx); err != nil || !held || v != rb.version {
		t.Errorf("Holder = %d, %v, %v; want %d, true", v, held, err, rb.version)
	}

	if ok, err := b.l.Release(ctx); err != nil || !ok {
		t.Fatalf("B Release = %v, %v", ok, err)
	}
	rc := receive(t, gotC, "C's Acquire")
	if rc.err != nil {
		t.Fatal(rc.err)
	}
	if rc.version <= rb.version {
		t.Errorf("C's version %d is not above B's %d", rc.version, rb.version)
	}
	// A takes it again later: still increasing.
	if ok, err := c.l.Release(ctx); err != nil || !ok {
		t.Fatalf("C Release = %v, %v", ok, err)
	}
	va2, _, err := a.l.Acquire(ctx, a.s)
	if err != nil || va2 <= rc.version {
		t.Errorf("A's second version = %d, %v; want above %d", va2, err, rc.version)
	}
}

// TestLockWaiterWhosePredecessorLeaves: when the waiter ahead gives up, the
// one behind finds the holder and waits on it.
func TestLockWaiterWhosePredecessorLeaves(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b, c := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)
	va, _, err := a.l.Acquire(ctx, a.s)
	if err != nil {
		t.Fatal(err)
	}
	bctx, cancelB := context.WithCancel(ctx)
	gotB := b.acquireAsync(bctx)
	waitQueue(t, a.l, 2)
	gotC := c.acquireAsync(ctx)
	q := waitQueue(t, a.l, 3)

	cancelB()
	rb := receive(t, gotB, "B's cancelled Acquire")
	if !errors.Is(rb.err, context.Canceled) {
		t.Errorf("B's Acquire error = %v, want context.Canceled", rb.err)
	}
	waitQueue(t, a.l, 2) // B's key is gone
	notYet(t, gotC, "C's Acquire while A holds")
	if _, err := a.l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	rc := receive(t, gotC, "C's Acquire")
	if rc.err != nil || rc.version <= va || rc.version != uint64(q[2].CreateRevision) {
		t.Errorf("C's Acquire = %d, %v; want its key's create revision %d", rc.version, rc.err, q[2].CreateRevision)
	}
	// C watched B, then A, then (holding) its own key.
	c.waitWatches(t, 3)
	if w := c.watched.seen(); len(w) != 3 || w[0] != string(q[1].Key) || w[1] != string(q[0].Key) || w[2] != string(q[2].Key) {
		t.Errorf("C watched %q, want B's key %q, A's key %q, its own %q", w, q[1].Key, q[0].Key, q[2].Key)
	}
}

func TestLockAbandonedWaitLeavesNothing(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)
	if _, _, err := a.l.Acquire(ctx, a.s); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, _, err := b.l.Acquire(short, b.s); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire with a short deadline: %v, want context.DeadlineExceeded", err)
	}
	if q := queue(t, a.l); len(q) != 1 {
		t.Errorf("queue has %d keys after the waiter gave up, want 1", len(q))
	}
	// TryAcquire leaves nothing behind either.
	if _, _, ok, err := b.l.TryAcquire(ctx, b.s); err != nil || ok {
		t.Errorf("TryAcquire while held = %v, %v; want false", ok, err)
	}
	if q := queue(t, a.l); len(q) != 1 {
		t.Errorf("queue has %d keys after a failed TryAcquire, want 1", len(q))
	}
	// The owner is idle again and can wait once more.
	gotB := b.acquireAsync(ctx)
	if _, err := a.l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if r := receive(t, gotB, "B's second Acquire"); r.err != nil {
		t.Fatal(r.err)
	}
}

func TestLockConflictAndClose(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)
	if _, _, err := a.l.Acquire(ctx, a.s); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.l.Acquire(ctx, a.s); !errors.Is(err, driver.ErrConflict) {
		t.Errorf("second Acquire by the holder: %v, want ErrConflict", err)
	}
	gotB := b.acquireAsync(ctx)
	waitQueue(t, a.l, 2)
	if _, _, _, err := b.l.TryAcquire(ctx, b.s); !errors.Is(err, driver.ErrConflict) {
		t.Errorf("TryAcquire while acquiring: %v, want ErrConflict", err)
	}
	if err := b.l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if r := receive(t, gotB, "B's Acquire after Close"); !errors.Is(r.err, driver.ErrClosed) {
		t.Errorf("Acquire abandoned by Close: %v, want ErrClosed", r.err)
	}
	waitQueue(t, a.l, 1)
	// Closing the holder releases the lock.
	if err := a.l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitQueue(t, b.l, 0)
}

// TestLockLost checks every way a hold can end without its owner's
// Release: another owner's ReleaseVersion, the session's close, and the
// lease's expiry (here, revocation behind the driver's back).
func TestLockLost(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)

	v, lost, err := a.l.Acquire(ctx, a.s)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := b.l.ReleaseVersion(ctx, v+1); err != nil || ok {
		t.Errorf("ReleaseVersion of another version = %v, %v; want false", ok, err)
	}
	if ok, err := b.l.ReleaseVersion(ctx, v); err != nil || !ok {
		t.Fatalf("ReleaseVersion = %v, %v; want true", ok, err)
	}
	receive(t, lost, "lost after ReleaseVersion")
	if ok, err := a.l.Release(ctx); err != nil || ok {
		t.Errorf("Release after losing the lock = %v, %v; want false", ok, err)
	}

	_, lost, err = a.l.Acquire(ctx, a.s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rawClient(t).Revoke(ctx, a.s.lease); err != nil {
		t.Fatal(err)
	}
	receive(t, lost, "lost after the lease was revoked")
	receive(t, a.s.Done(), "session Done after the lease was revoked")
	if _, _, err := a.l.Acquire(ctx, a.s); !errors.Is(err, driver.ErrClosed) {
		t.Errorf("Acquire with an ended session: %v, want ErrClosed", err)
	}

	s2 := newTestSession(t, a.d, 0)
	_, lost, err = a.l.Acquire(ctx, s2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	receive(t, lost, "lost after the session was closed")
	if _, held, err := b.l.Holder(ctx); err != nil || held {
		t.Errorf("Holder after the session closed = %v, %v; want not held", held, err)
	}
}

// TestLockWaiterSessionEnds: a waiter whose session ends stops waiting.
func TestLockWaiterSessionEnds(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)
	if _, _, err := a.l.Acquire(ctx, a.s); err != nil {
		t.Fatal(err)
	}
	gotB := b.acquireAsync(ctx)
	waitQueue(t, a.l, 2)
	if _, err := rawClient(t).Revoke(ctx, b.s.lease); err != nil {
		t.Fatal(err)
	}
	if r := receive(t, gotB, "B's Acquire after its lease was revoked"); !errors.Is(r.err, driver.ErrClosed) {
		t.Errorf("Acquire whose session ended: %v, want ErrClosed", r.err)
	}
	waitQueue(t, a.l, 1)
}

// TestLockOneLossWatchPerOwner: an owner that locks and unlocks again and
// again keeps one watch for the loss of its holds, and still learns of each
// loss.
func TestLockOneLossWatchPerOwner(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)
	for i := 0; i < 5; i++ {
		if _, _, err := a.l.Acquire(ctx, a.s); err != nil {
			t.Fatal(err)
		}
		if _, err := a.l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	v, lost, err := a.l.Acquire(ctx, a.s)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := b.l.ReleaseVersion(ctx, v); err != nil || !ok {
		t.Fatalf("ReleaseVersion = %v, %v", ok, err)
	}
	receive(t, lost, "lost after the sixth hold was released by another owner")
	if w := a.watched.seen(); len(w) != 1 {
		t.Errorf("the owner made %d watches over six holds, want 1: %q", len(w), w)
	}
}

// TestLockLostOnCrash: a holder whose driver crashes learns at once that
// its hold is over, and the next owner gets the lock once the lease
// expires.
func TestLockLostOnCrash(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)
	va, lost, err := a.l.Acquire(ctx, a.s)
	if err != nil {
		t.Fatal(err)
	}
	gotB := b.acquireAsync(ctx)
	waitQueue(t, b.l, 2)
	a.d.crash()
	receive(t, lost, "lost after the holder's driver crashed")
	r := receive(t, gotB, "B's Acquire after the holder's lease expired")
	if r.err != nil || r.version <= va {
		t.Errorf("B's Acquire = %d, %v; want a version above %d", r.version, r.err, va)
	}
}

// TestLockKeyReuse: an owner reuses its key name across holds, so a stale
// ReleaseVersion of an earlier hold must not release a later one, and the
// queue's key range does not grow with every acquisition.
func TestLockKeyReuse(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)
	v1, _, err := a.l.Acquire(ctx, a.s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	v2, lost, err := a.l.Acquire(ctx, a.s)
	if err != nil || v2 <= v1 {
		t.Fatalf("second Acquire = %d, %v; want above %d", v2, err, v1)
	}
	if ok, err := b.l.ReleaseVersion(ctx, v1); err != nil || ok {
		t.Errorf("ReleaseVersion of the earlier hold = %v, %v; want false", ok, err)
	}
	if closed(lost) {
		t.Error("a stale ReleaseVersion ended the current hold")
	}
	if v, held, err := b.l.Holder(ctx); err != nil || !held || v != v2 {
		t.Errorf("Holder = %d, %v, %v; want %d", v, held, err, v2)
	}
	if ok, err := a.l.Release(ctx); err != nil || !ok {
		t.Errorf("Release = %v, %v", ok, err)
	}
}
