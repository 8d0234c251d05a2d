package etcd

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// lockOwner is one owner of a lock, with a driver and session of its own.
type lockOwner struct {
	d       *Driver
	s       *session
	l       *etcdLock
	owner   string
	watched *watchRecorder
	ready   atomic.Int64 // watches in place (see etcdLock.watching)

	requests *txnCounter
}

func newLockOwner(t *testing.T, prefix string, id driver.ID) *lockOwner {
	d := newTestDriver(t, prefix)
	w := recordWatches(d)
	l, err := d.OpenLock(testContext(t), id)
	if err != nil {
		t.Fatal(err)
	}
	o := &lockOwner{d: d, s: newTestSession(t, d, 0), l: l.(*etcdLock), owner: testPrefix(t), watched: w, requests: countRequests(d)}
	o.l.watching = func(string) { o.ready.Add(1) }
	return o
}

func (o *lockOwner) acquire(ctx context.Context) (driver.Hold, error) {
	return o.l.Acquire(ctx, o.s, o.owner)
}

func (o *lockOwner) release(ctx context.Context, h driver.Hold) (bool, error) {
	return o.l.Release(ctx, o.owner, h.Version)
}

// watchRecorder records the keys a driver watches, but for the watch that
// keeps the stream open (see Driver.keepWatchStream).
type watchRecorder struct {
	clientv3.Watcher
	prefix string // of the driver
	mu     sync.Mutex
	keys   []string
}

func (w *watchRecorder) Watch(ctx context.Context, key string, opts ...clientv3.OpOption) clientv3.WatchChan {
	if key != w.prefix {
		w.mu.Lock()
		w.keys = append(w.keys, key)
		w.mu.Unlock()
	}
	return w.Watcher.Watch(ctx, key, opts...)
}

func (w *watchRecorder) seen() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.keys...)
}

func recordWatches(d *Driver) *watchRecorder {
	w := &watchRecorder{Watcher: d.client.Watcher, prefix: d.prefix}
	d.client.Watcher = w
	return w
}

// waitWatches waits until the owner's driver reported n watches in place
// (see etcdLock.watching: the watch of an attempt's own key counts once
// made and again once its hold reads it), failing t after 10s. Every
// watch in place was recorded by the owner's watchRecorder before.
func (o *lockOwner) waitWatches(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for o.ready.Load() < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("the owner started the watches %q, %d in place; want %d in place", o.watched.seen(), o.ready.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// acquireResult is what an Acquire running in the background returned.
type acquireResult struct {
	driver.Hold
	err error
}

func (o *lockOwner) acquireAsync(ctx context.Context) <-chan acquireResult {
	ch := make(chan acquireResult, 1)
	go func() {
		h, err := o.acquire(ctx)
		ch <- acquireResult{h, err}
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

// queueOfThree makes three owners of one lock: A, which holds it (ha); B,
// queued behind A; and C, queued behind B. It returns them, B's and C's
// Acquire results to come, and the queue's keys.
func queueOfThree(ctx context.Context, t *testing.T) (a, b, c *lockOwner, ha driver.Hold, gotB, gotC <-chan acquireResult, q []*mvccKV) {
	t.Helper()
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b, c = newLockOwner(t, prefix, id), newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)
	ha, err := a.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gotB = b.acquireAsync(ctx)
	waitQueue(t, a.l, 2)
	// B's watches of its own key and of A's are in place before C writes.
	b.waitWatches(t, 2)
	gotC = c.acquireAsync(ctx)
	q = waitQueue(t, a.l, 3)
	return a, b, c, ha, gotB, gotC, q
}

// TestLockQueueFencingAndHandoff: holders get the lock in queue order with
// strictly increasing versions, each waiter watching only its predecessor
// (and its own key, for its hold), and a waiter whose predecessor is the
// holder takes over with no request, nor reads its own key for its hold.
func TestLockQueueFencingAndHandoff(t *testing.T) {
	ctx := testContext(t)
	a, b, c, ha, gotB, gotC, q := queueOfThree(ctx, t)
	if uint64(q[0].CreateRevision) != ha.Version {
		t.Errorf("holder's version %d is not its key's create revision %d", ha.Version, q[0].CreateRevision)
	}
	notYet(t, gotB, "B's Acquire while A holds")

	// B waits on A (the head: no further request needed), C on B. Each
	// watches its own key before enqueueing it, and its predecessor after:
	// wait for both.
	b.waitWatches(t, 2)
	c.waitWatches(t, 2)
	if w := b.watched.seen(); len(w) != 2 || w[0] != string(q[1].Key) || w[1] != string(q[0].Key) {
		t.Errorf("B watched %q, want its own key %q, then A's key %q", w, q[1].Key, q[0].Key)
	}
	if w := c.watched.seen(); len(w) != 2 || w[0] != string(q[2].Key) || w[1] != string(q[1].Key) {
		t.Errorf("C watched %q, want its own key %q, then B's key %q", w, q[2].Key, q[1].Key)
	}
	bKey := string(q[1].Key)
	requestsB, ownReadsB := b.requests.requests(), b.requests.getsOf(bKey)

	if ok, err := a.release(ctx, ha); err != nil || !ok {
		t.Fatalf("A Release = %v, %v", ok, err)
	}
	receive(t, ha.Gone, "A's Gone after Release")
	rb := receive(t, gotB, "B's Acquire")
	if rb.err != nil {
		t.Fatal(rb.err)
	}
	if rb.Version <= ha.Version {
		t.Errorf("B's version %d is not above A's %d", rb.Version, ha.Version)
	}
	if n := b.requests.requests() - requestsB; n != 0 {
		t.Errorf("B sent %d requests to take over from the holder, want 0", n)
	}
	// The hold uses the watch of B's own key that was in place before the
	// key was created (or at its creation, nothing written in between): it
	// saw every deletion since, no read needed.
	b.waitWatches(t, 3)
	if n := b.requests.getsOf(bKey) - ownReadsB; n != 0 {
		t.Errorf("B read its own key %d times for its hold, want 0", n)
	}
	notYet(t, gotC, "C's Acquire while B holds")
	if v, held, err := a.l.Holder(ctx); err != nil || !held || v != rb.Version {
		t.Errorf("Holder = %d, %v, %v; want %d, true", v, held, err, rb.Version)
	}

	if ok, err := b.release(ctx, rb.Hold); err != nil || !ok {
		t.Fatalf("B Release = %v, %v", ok, err)
	}
	rc := receive(t, gotC, "C's Acquire")
	if rc.err != nil {
		t.Fatal(rc.err)
	}
	if rc.Version <= rb.Version {
		t.Errorf("C's version %d is not above B's %d", rc.Version, rb.Version)
	}
	// A takes it again later: still increasing.
	if ok, err := c.release(ctx, rc.Hold); err != nil || !ok {
		t.Fatalf("C Release = %v, %v", ok, err)
	}
	ha2, err := a.acquire(ctx)
	if err != nil || ha2.Version <= rc.Version {
		t.Errorf("A's second version = %d, %v; want above %d", ha2.Version, err, rc.Version)
	}
}

// TestLockWaiterWhosePredecessorLeaves: when the waiter ahead gives up, the
// one behind finds the holder and waits on it.
func TestLockWaiterWhosePredecessorLeaves(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b, c := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)
	ha, err := a.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bctx, cancelB := context.WithCancel(ctx)
	gotB := b.acquireAsync(bctx)
	waitQueue(t, a.l, 2)
	gotC := c.acquireAsync(ctx)
	q := waitQueue(t, a.l, 3)
	// C's watch of B must be in place before B leaves: had B gone first,
	// C would find it gone by reading, without a watch of it to count.
	c.waitWatches(t, 2) // its own key's and B's

	cancelB()
	rb := receive(t, gotB, "B's cancelled Acquire")
	if !errors.Is(rb.err, context.Canceled) {
		t.Errorf("B's Acquire error = %v, want context.Canceled", rb.err)
	}
	waitQueue(t, a.l, 2) // B's key is gone
	notYet(t, gotC, "C's Acquire while A holds")
	if _, err := a.release(ctx, ha); err != nil {
		t.Fatal(err)
	}
	rc := receive(t, gotC, "C's Acquire")
	if rc.err != nil || rc.Version <= ha.Version || rc.Version != uint64(q[2].CreateRevision) {
		t.Errorf("C's Acquire = %d, %v; want its key's create revision %d", rc.Version, rc.err, q[2].CreateRevision)
	}
	// C watched its own key (kept for its hold), then B, then A.
	c.waitWatches(t, 3)
	if w := c.watched.seen(); len(w) != 3 || w[0] != string(q[2].Key) || w[1] != string(q[1].Key) || w[2] != string(q[0].Key) {
		t.Errorf("C watched %q, want its own %q, B's key %q, A's key %q", w, q[2].Key, q[1].Key, q[0].Key)
	}
}

// TestLockAbandonedAttemptsLeaveNothing: an Acquire whose context ends, one
// whose lock is closed, and a TryAcquire that fails leave no key behind.
func TestLockAbandonedAttemptsLeaveNothing(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)
	ha, err := a.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := b.acquire(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire with a short deadline: %v, want context.DeadlineExceeded", err)
	}
	if q := queue(t, a.l); len(q) != 1 {
		t.Errorf("queue has %d keys after the waiter gave up, want 1", len(q))
	}
	if _, ok, err := b.l.TryAcquire(ctx, b.s, b.owner); err != nil || ok {
		t.Errorf("TryAcquire while held = %v, %v; want false", ok, err)
	}
	if q := queue(t, a.l); len(q) != 1 {
		t.Errorf("queue has %d keys after a failed TryAcquire, want 1", len(q))
	}
	gotB := b.acquireAsync(ctx)
	waitQueue(t, a.l, 2)
	if err := b.l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if r := receive(t, gotB, "B's Acquire after Close"); !errors.Is(r.err, driver.ErrClosed) {
		t.Errorf("Acquire abandoned by Close: %v, want ErrClosed", r.err)
	}
	waitQueue(t, a.l, 1)
	// Closing the holder's lock changes nothing on the backend.
	if err := a.l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	receive(t, ha.Gone, "Gone after the holder's lock closed")
	if q := queue(t, b.l); len(q) != 1 || uint64(q[0].CreateRevision) != ha.Version {
		t.Errorf("queue after the holder's lock closed = %d keys, want the hold's", len(q))
	}
	if err := a.l.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestLockGone: a hold's Gone closes when its key goes, whoever removes it
// (ReleaseVersion is covered by the conformance suite): here the lease's
// expiry, forced by revoking it behind the driver's back, and the
// session's close.
func TestLockGone(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)

	h, err := a.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rawClient(t).Revoke(ctx, a.s.lease); err != nil {
		t.Fatal(err)
	}
	receive(t, h.Gone, "Gone after the lease was revoked")
	if ok, err := a.release(ctx, h); err != nil || ok {
		t.Errorf("Release of a hold that is gone = %v, %v; want false", ok, err)
	}
	receive(t, a.s.Done(), "session Done after the lease was revoked")
	if _, err := a.acquire(ctx); !errors.Is(err, driver.ErrClosed) {
		t.Errorf("Acquire with an ended session: %v, want ErrClosed", err)
	}

	s2 := newTestSession(t, a.d, 0)
	if h, err = a.l.Acquire(ctx, s2, a.owner); err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	receive(t, h.Gone, "Gone after the session was closed")
	if _, held, err := b.l.Holder(ctx); err != nil || held {
		t.Errorf("Holder after the session closed = %v, %v; want not held", held, err)
	}
}

// TestLockWaiterSessionEnds: a waiter whose session ends stops waiting.
func TestLockWaiterSessionEnds(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)
	if _, err := a.acquire(ctx); err != nil {
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

// TestLockKeyReuse: an owner reuses its key name across holds. A stale
// release of an earlier hold must not release a later one, and a key the
// owner left behind (a hold whose release never reached the server) is
// replaced by the next Acquire, with a new version.
func TestLockKeyReuse(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "lock"}
	a, b := newLockOwner(t, prefix, id), newLockOwner(t, prefix, id)
	h1, err := a.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// No Release: the next Acquire finds the key still there.
	h2, err := a.acquire(ctx)
	if err != nil || h2.Version <= h1.Version {
		t.Fatalf("second Acquire = %d, %v; want above %d", h2.Version, err, h1.Version)
	}
	receive(t, h1.Gone, "the first hold's Gone once its key was replaced")
	if ok, err := b.l.ReleaseVersion(ctx, h1.Version); err != nil || ok {
		t.Errorf("ReleaseVersion of the earlier hold = %v, %v; want false", ok, err)
	}
	if ok, err := a.release(ctx, h1); err != nil || ok {
		t.Errorf("Release of the earlier hold = %v, %v; want false", ok, err)
	}
	if closed(h2.Gone) {
		t.Error("a stale release ended the current hold")
	}
	if v, held, err := b.l.Holder(ctx); err != nil || !held || v != h2.Version {
		t.Errorf("Holder = %d, %v, %v; want %d", v, held, err, h2.Version)
	}
	if q := queue(t, a.l); len(q) != 1 {
		t.Errorf("queue has %d keys, want 1", len(q))
	}
	if ok, err := a.release(ctx, h2); err != nil || !ok {
		t.Errorf("Release = %v, %v", ok, err)
	}
}

// TestLockStaleCleanupSparesLaterAttempt: removing an abandoned attempt's
// key deletes only the key that attempt wrote, not a later attempt's.
func TestLockStaleCleanupSparesLaterAttempt(t *testing.T) {
	ctx := testContext(t)
	o := newLockOwner(t, testPrefix(t), driver.ID{Name: "lock"})
	stale, err := o.l.begin(o.s, o.owner)
	if err != nil {
		t.Fatal(err)
	}
	h, err := o.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !stale.tryRemove() {
		t.Fatal("tryRemove failed to reach the server")
	}
	if q := queue(t, o.l); len(q) != 1 || uint64(q[0].CreateRevision) != h.Version {
		t.Errorf("an earlier attempt's cleanup removed the current hold's key")
	}
	notYet(t, h.Gone, "Gone after a stale cleanup")
}

// TestLockHoldsShareOneWatchStream: a lock taken and released in a loop,
// each hold's watch the only one of the driver while it lasts, opens one
// gRPC watch stream, not one per hold (see Driver.keepWatchStream).
func TestLockHoldsShareOneWatchStream(t *testing.T) {
	ctx := testContext(t)
	var streams atomic.Int64
	count := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if method == "/etcdserverpb.Watch/Watch" {
			streams.Add(1)
		}
		return streamer(ctx, desc, cc, method, opts...)
	}
	raw, err := clientv3.New(clientv3.Config{
		Endpoints:   testbackend.Etcd(t),
		DialOptions: []grpc.DialOption{grpc.WithChainStreamInterceptor(count)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	d := NewFromClient(raw, testPrefix(t))
	defer d.Close(ctx)
	s := newTestSession(t, d, 0)
	l, err := d.OpenLock(ctx, driver.ID{Name: "lock"})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		h, err := l.Acquire(ctx, s, "owner")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := l.Release(ctx, "owner", h.Version); err != nil || !ok {
			t.Fatalf("Release = %v, %v", ok, err)
		}
		receive(t, h.Gone, "Gone after Release")
	}
	if n := streams.Load(); n != 1 {
		t.Errorf("5 holds opened %d watch streams, want 1", n)
	}
}

// TestLockTakeoverReadIsSerializable: a waiter whose predecessor was not
// the head when it was queued finds who is ahead after the predecessor
// goes with one serializable read (see attempt.readAhead), no round of the
// consensus protocol, and then holds the lock.
//
// The serializable read may answer at a revision before the deletion the
// watch reported: etcd posts a watch event to its watchers just before the
// write it reports becomes readable (watchableStoreTxnWrite.End notifies,
// then ends the write), and under load the client can read in between
// (seen in `make stress`: "C sent 2 requests to take over, want 1"). The
// waiter then asks once more, linearizably, as it would a follower behind;
// that second read is allowed only if the first one was behind it.
func TestLockTakeoverReadIsSerializable(t *testing.T) {
	ctx := testContext(t)
	a, b, c, ha, gotB, gotC, _ := queueOfThree(ctx, t) // ahead of C: B, then A
	c.waitWatches(t, 2)
	if ok, err := a.release(ctx, ha); err != nil || !ok {
		t.Fatalf("A Release = %v, %v", ok, err)
	}
	rb := receive(t, gotB, "B's Acquire")
	if rb.err != nil {
		t.Fatal(rb.err)
	}
	requestsC, readsC := c.requests.requests(), c.requests.readCount()
	if ok, err := b.release(ctx, rb.Hold); err != nil || !ok {
		t.Fatalf("B Release = %v, %v", ok, err)
	}
	rc := receive(t, gotC, "C's Acquire")
	if rc.err != nil || rc.Version <= rb.Version {
		t.Fatalf("C's Acquire = %d, %v; want a version above B's %d", rc.Version, rc.err, rb.Version)
	}
	reads := c.requests.readsSince(readsC)
	n := c.requests.requests() - requestsC
	switch {
	case len(reads) == 0 || !reads[0].serializable:
		t.Errorf("C's first read to take over was %+v; want a serializable one", reads)
	case n == 1:
	case n == 2 && len(reads) == 2 && !reads[1].serializable && reads[0].revision < reads[1].revision:
		t.Logf("the serializable read answered at revision %d, behind; read again linearizably at %d", reads[0].revision, reads[1].revision)
	default:
		t.Errorf("C sent %d requests to take over, reads %+v; want one serializable read, or a second, linearizable one only when the first was behind it", n, reads)
	}
}

// TestLockHoldsShareOneWatch: the holds of one owner on one lock handle,
// taken and released in a loop by Acquire and TryAcquire, all wait for
// their key's deletion through one watch of the key, opened once and kept
// (see holdWatch), not a watch of their own each.
func TestLockHoldsShareOneWatch(t *testing.T) {
	ctx := testContext(t)
	o := newLockOwner(t, testPrefix(t), driver.ID{Name: "lock"})
	for i := range 6 {
		var h driver.Hold
		var err error
		if i%2 == 0 {
			h, err = o.acquire(ctx)
		} else {
			var ok bool
			h, ok, err = o.l.TryAcquire(ctx, o.s, o.owner)
			if err == nil && !ok {
				t.Fatal("TryAcquire of a free lock failed")
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := o.release(ctx, h); err != nil || !ok {
			t.Fatalf("Release = %v, %v", ok, err)
		}
		receive(t, h.Gone, "Gone after Release")
	}
	if w := o.watched.seen(); len(w) != 1 || w[0] != o.l.prefix+o.owner {
		t.Errorf("6 holds started the watches %q, want only one of the key %q", w, o.l.prefix+o.owner)
	}
}

// breakableWatcher passes watches through, but for those of key: it can
// end the first one as the server does on a compaction past its revision
// (see breakWatch), and holds every later one back until open is closed.
type breakableWatcher struct {
	clientv3.Watcher
	key   string
	brk   chan struct{} // closed to end the first watch
	open  chan struct{} // closed to let later watches through
	later chan struct{} // gets a value when a later watch is asked for
	mu    sync.Mutex
	n     int
}

func (w *breakableWatcher) Watch(ctx context.Context, key string, opts ...clientv3.OpOption) clientv3.WatchChan {
	if key != w.key {
		return w.Watcher.Watch(ctx, key, opts...)
	}
	w.mu.Lock()
	first := w.n == 0
	w.n++
	w.mu.Unlock()
	if !first {
		w.later <- struct{}{}
		select {
		case <-w.open:
		case <-ctx.Done():
		}
		return w.Watcher.Watch(ctx, key, opts...)
	}
	inner := w.Watcher.Watch(ctx, key, opts...)
	out := make(chan clientv3.WatchResponse)
	go func() {
		defer close(out)
		for {
			select {
			case resp, ok := <-inner:
				if !ok {
					return
				}
				select {
				case out <- resp:
				case <-ctx.Done():
					return
				}
			case <-w.brk:
				select {
				case out <- clientv3.WatchResponse{Canceled: true, CompactRevision: 1}:
				case <-ctx.Done():
				}
				return
			}
		}
	}()
	return out
}

// TestLockHoldWatchBroken: when the watch of a hold's key ends (here
// as on a compaction past its revision) and the hold's key is deleted
// before the watch is made again, the new watch cannot report the
// deletion: the hold reads its key and its Gone is closed all the same.
func TestLockHoldWatchBroken(t *testing.T) {
	ctx := testContext(t)
	o := newLockOwner(t, testPrefix(t), driver.ID{Name: "lock"})
	bw := &breakableWatcher{Watcher: o.d.client.Watcher, key: o.l.prefix + o.owner,
		brk: make(chan struct{}), open: make(chan struct{}), later: make(chan struct{}, 1)}
	o.d.client.Watcher = bw
	h, err := o.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o.waitWatches(t, 2) // registered while the watch is live; the hold missed nothing
	close(bw.brk)
	receive(t, bw.later, "the watch made again")
	if ok, err := o.release(ctx, h); err != nil || !ok {
		t.Fatalf("Release = %v, %v", ok, err)
	}
	close(bw.open)
	receive(t, h.Gone, "Gone of a hold whose key was deleted while its watch was down")
}

// TestLockIdleHoldWatchCloses: the watch of an owner's key ends once no
// hold has used it for holdWatchIdle, and the next hold makes a new one.
func TestLockIdleHoldWatchCloses(t *testing.T) {
	ctx := testContext(t)
	o := newLockOwner(t, testPrefix(t), driver.ID{Name: "lock"})
	hold := func() {
		h, err := o.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := o.release(ctx, h); err != nil || !ok {
			t.Fatalf("Release = %v, %v", ok, err)
		}
		receive(t, h.Gone, "Gone after Release")
	}
	hold()
	deadline := time.Now().Add(10 * time.Second)
	for {
		o.l.holds.mu.Lock()
		n := len(o.l.holds.keys)
		o.l.holds.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d watches of hold keys still open 10s after the last hold", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	hold()
	if w := o.watched.seen(); len(w) != 2 || w[0] != o.l.prefix+o.owner || w[1] != w[0] {
		t.Errorf("two holds a while apart started the watches %q, want two of the key %q", w, o.l.prefix+o.owner)
	}
}
