package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/conformance/faultproxy"
	"github.com/atomix/go-client/conformance/linearize"
	"github.com/atomix/go-client/driver"
)

// testFaults is the fault tier: a driver connected through the shared fault
// proxy loses replies, connections and deadlines, and must say what it
// knows: ErrAmbiguous for a write that may have been applied, never for a
// read.
func testFaults(t *testing.T, h Harness) {
	if reason, ok := h.Gaps[FeatureFaults]; ok {
		t.Skipf("gap: %s: %s", FeatureFaults, reason)
	}
	if h.Backend == "" || h.NewDriverAt == nil {
		t.Fatalf("conformance: Harness.Backend and Harness.NewDriverAt are needed for the fault tier (or declare the %q gap)", FeatureFaults)
	}
	parallel(t, "LostReplyIsAmbiguous", h, testLostReplyIsAmbiguous)
	parallel(t, "LostReadIsRetriedOrUnavailable", h, testLostRead)
	parallel(t, "DeadlineDuringWrite", h, testDeadlineDuringWrite)
	parallel(t, "FencedHolderCutOff", h, testFencedHolderCutOff)
	parallel(t, "HolderCutPastTTL", h, testHolderCutPastTTL)
	parallel(t, "AbandonedWaitLeavesNoWaiter", h, func(t *testing.T, e *env) {
		skipIfGap(t, e.h, FeatureLock)
		testAbandonedWaitLeavesNoWaiter(t, e, func(c *atomix.Client) owner { return lockOwner(e.lock(c, "l")) })
	})
	parallel(t, "AbandonedSemaphoreWaitLeavesNoWaiter", h, func(t *testing.T, e *env) {
		skipIfGap(t, e.h, FeatureSemaphore)
		testAbandonedWaitLeavesNoWaiter(t, e, func(c *atomix.Client) owner { return semaphoreOwner(e.semaphore(c, "s", 1), 1) })
	})
	parallel(t, "LinearizableMapThroughCuts", h, testLinearizableThroughCuts)
}

// proxied returns a fault proxy in front of the backend and a driver that
// connects through it; both end with the subtest.
func (e *env) proxied() (*faultproxy.Proxy, driver.Driver) {
	e.t.Helper()
	p, err := faultproxy.Start(e.h.Backend)
	require.NoError(e.t, err, "start the fault proxy")
	e.t.Cleanup(p.Close)
	d, err := e.h.NewDriverAt(e.ctx, e.t, p.Addr())
	require.NoError(e.t, err, "Harness.NewDriverAt")
	e.t.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		_ = d.Close(ctx)
	})
	return p, d
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "not within "+d.String()+": "+what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testLostReplyIsAmbiguous: a write that reached the backend, whose reply
// was lost with its connection, is ErrAmbiguous, and was applied exactly
// once: a driver (or its client library) must not resend it blindly. It
// covers a plain increment, a conditional write and a map write, which
// drivers send in different ways (commands, scripts, transactions).
func testLostReplyIsAmbiguous(t *testing.T, e *env) {
	p, d := e.proxied()
	c, err := d.OpenCounter(e.ctx, e.id("c"))
	require.NoError(t, err)
	defer c.Close(e.ctx)
	m, err := d.OpenMap(e.ctx, e.id("m"))
	require.NoError(t, err)
	defer m.Close(e.ctx)
	// Warm up the connection and whatever the driver prepares on first use
	// (scripts, cached versions), so that each write below is one request.
	// A connection made while replies are dropped could not finish its
	// handshake: each lost write is preceded by a read through the proxy.
	_, err = c.Add(e.ctx, 1)
	require.NoError(t, err)
	_, err = c.CompareAndSet(e.ctx, 1, 1)
	require.NoError(t, err)
	_, err = m.Put(e.ctx, "k", []byte("before"), 0)
	require.NoError(t, err)

	dc, err := e.driver().OpenCounter(e.ctx, e.id("c"))
	require.NoError(t, err)
	defer dc.Close(e.ctx)
	dm, err := e.driver().OpenMap(e.ctx, e.id("m"))
	require.NoError(t, err)
	defer dm.Close(e.ctx)
	counterIs := func(want int64) func() bool {
		return func() bool {
			v, err := dc.Get(e.ctx)
			return err == nil && v == want
		}
	}

	lostReply(t, e, p, "Counter.Add", func() error { _, err := c.Add(e.ctx, 10); return err }, counterIs(11))
	v, err := c.Get(e.ctx) // through a new connection
	require.NoError(t, err, "Get after the lost Add")
	require.EqualValues(t, 11, v, "the counter after a lost Add of 10 to 1: applied exactly once")

	lostReply(t, e, p, "Counter.CompareAndSet", func() error { _, err := c.CompareAndSet(e.ctx, 11, 20); return err }, counterIs(20))
	v, err = c.Get(e.ctx)
	require.NoError(t, err, "Get after the lost CompareAndSet")
	require.EqualValues(t, 20, v, "the counter after a lost CompareAndSet from 11 to 20")

	lostReply(t, e, p, "Map.Put", func() error { _, err := m.Put(e.ctx, "k", []byte("during"), 0); return err }, func() bool {
		got, err := dm.Get(e.ctx, "k")
		return err == nil && string(got.Value) == "during"
	})
	_, err = c.Add(e.ctx, 1)
	require.NoError(t, err, "Add after the lost writes")
	v, err = dc.Get(e.ctx)
	require.NoError(t, err)
	require.EqualValues(t, 21, v, "the counter after the lost writes and one more Add: nothing was resent")
}

// lostReply runs write with the backend's replies dropped, waits until
// applied reports the write applied on the backend, cuts the connection,
// and requires write to return ErrAmbiguous. The cut comes before replies
// flow again, so the reply of the applied write can never arrive.
func lostReply(t *testing.T, e *env, p *faultproxy.Proxy, what string, write func() error, applied func() bool) {
	t.Helper()
	p.DropReplies(true)
	res := async(func() (struct{}, error) { return struct{}{}, write() })
	waitFor(t, e.event, what+" applied on the backend", applied)
	p.Cut()
	p.DropReplies(false)
	r := await(t, res, e.event, what+" whose connection was cut")
	require.ErrorIs(t, r.err, driver.ErrAmbiguous, "%s applied whose reply was lost", what)
}

// testLostRead: a read whose reply was lost is retried by the driver or
// fails as unavailable; it is never ambiguous.
func testLostRead(t *testing.T, e *env) {
	p, d := e.proxied()
	m, err := d.OpenMap(e.ctx, e.id("m"))
	require.NoError(t, err)
	defer m.Close(e.ctx)
	_, err = m.Put(e.ctx, "k", []byte("v"), 0)
	require.NoError(t, err)

	p.DropReplies(true)
	sent, _ := p.Forwarded()
	get := async(func() (driver.Entry, error) { return m.Get(e.ctx, "k") })
	waitFor(t, e.event, "the read sent", func() bool {
		now, _ := p.Forwarded()
		return now > sent
	})
	// Replies flow again before the cut: a read may succeed either way, and
	// a retry on a new connection made just after the cut must get its
	// reply (an HTTP client retries an idempotent GET at once).
	p.DropReplies(false)
	p.Cut()
	r := await(t, get, e.event, "a read whose connection was cut")
	if r.err != nil {
		require.NotErrorIs(t, r.err, driver.ErrAmbiguous, "a read is never ambiguous")
		require.True(t, isAny(r.err, driver.ErrUnavailable, driver.ErrTimeout), "a read that failed for the network: %v", r.err)
		return
	}
	require.Equal(t, "v", string(r.val.Value))
}

// testDeadlineDuringWrite: a write whose context ends while it is in flight
// matches both the context's error and ErrAmbiguous; a read in the same
// state matches the context's error only.
func testDeadlineDuringWrite(t *testing.T, e *env) {
	p, d := e.proxied()
	m, err := d.OpenMap(e.ctx, e.id("m"))
	require.NoError(t, err)
	defer m.Close(e.ctx)
	_, err = m.Put(e.ctx, "k", []byte("v"), 0)
	require.NoError(t, err)

	p.DropReplies(true)
	short, cancel := context.WithTimeout(e.ctx, e.quiet)
	defer cancel()
	_, err = m.Put(short, "k", []byte("w"), 0)
	require.ErrorIs(t, err, context.DeadlineExceeded, "Put past its deadline")
	require.ErrorIs(t, err, driver.ErrAmbiguous, "Put past its deadline")

	short2, cancel2 := context.WithTimeout(e.ctx, e.quiet)
	defer cancel2()
	_, err = m.Get(short2, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded, "Get past its deadline")
	require.NotErrorIs(t, err, driver.ErrAmbiguous, "Get past its deadline")
	p.DropReplies(false)
	p.Cut()

	done, cancel3 := context.WithCancel(e.ctx)
	cancel3()
	_, err = m.Put(done, "k", []byte("x"), 0)
	require.ErrorIs(t, err, context.Canceled, "Put with a context already cancelled")
	require.NotErrorIs(t, err, driver.ErrAmbiguous, "Put with a context already cancelled: nothing was sent")
}

// testHolderCutPastTTL: a lock holder whose connections are blackholed (it
// looks paused to the backend) for longer than its session TTL loses the
// lock: another client gets it with a strictly greater version, the
// holder's Lost closes, and once the network is back the holder's late
// Unlock releases nothing of the new holder's.
func testHolderCutPastTTL(t *testing.T, e *env) {
	skipIfGap(t, e.h, FeatureLock)
	skipIfGap(t, e.h, FeatureSessionExpiry)
	p, d := e.proxied()
	holder := e.lock(e.expiringClientOn(d, e.ns), "l")
	waiter := e.lock(e.client(), "l")
	v := acquire(t, e.ctx, holder, 0)
	lost := holder.Lost()
	res := lockAsync(e.ctx, waiter)
	requirePending(t, res, e.quiet, "Lock of a held lock")

	p.Blackhole(true)
	cut := time.Now()
	r := await(t, res, e.expiry, "the lock of a holder cut off must be granted to another client once the holder's session TTL (%v) expires", e.h.SessionTTL)
	require.NoError(t, r.err)
	require.Greater(t, r.val, v, "the next holder's version")
	t.Logf("the waiter got the lock %v after the holder was cut off (session TTL %v)", time.Since(cut).Round(time.Millisecond), e.h.SessionTTL)
	requireDoneWithin(t, lost, e.expiry, "Lost of the holder cut off past its TTL")

	p.Blackhole(false)
	p.Cut() // connections that lost data mid-stream cannot be resumed
	ctx, cancel := context.WithTimeout(e.ctx, e.event)
	defer cancel()
	released, err := holder.Unlock(ctx)
	require.False(t, released, "the late Unlock of a holder that lost the lock (err %v)", err)
	expect(t, true, "the new holder keeps the lock after the old holder's late Unlock")(waiter.IsLocked(e.ctx, lock.WithVersion(r.val)))
	require.False(t, isDone(waiter.Lost()), "the new holder's Lost after the old holder's late Unlock")
	expect(t, true)(waiter.Unlock(e.ctx))
}

// abandonedWaitBound bounds how long the next waiter may wait for a hold
// once the network is back and the holder released it, when a waiter ahead
// of it gave up during the outage: the client's reconnection after an
// outage of several seconds (a gRPC client backs off for seconds) and a few
// clean-up retries, well under the session TTL of the waiter that gave up
// (stableSessionTTL), past which its place would be dropped with its
// session anyway.
const abandonedWaitBound = 12 * time.Second

// testAbandonedWaitLeavesNoWaiter: a waiter whose acquisition is given up
// (its context is cancelled) while its client cannot reach the backend, so
// that its clean-up fails, must not stay queued once the network is back,
// although its session lives on (renewed after the outage) and its
// instance is neither used again nor closed: the next waiter, queued
// behind it, gets the hold soon after the holder releases it.
func testAbandonedWaitLeavesNoWaiter(t *testing.T, e *env, open func(*atomix.Client) owner) {
	ctx := e.ctx
	p, d := e.proxied()
	holder := open(e.client())
	waiter := open(e.clientOn(d, e.ns)) // its session outlives the outage
	next := open(e.client())
	v, err := holder.acquire(ctx)
	require.NoError(t, err)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	waiting := async(func() (uint64, error) { return waiter.acquire(wctx) })
	requirePending(t, waiting, e.quiet, "the proxied waiter while another client holds")
	nextRes := async(func() (uint64, error) { return next.acquire(ctx) })
	requirePending(t, nextRes, e.quiet, "the next waiter, queued behind the proxied one")

	p.Refuse(true)
	p.Cut()
	cancel()
	r := await(t, waiting, e.event, "the proxied waiter whose context was cancelled while it could not reach the backend")
	require.ErrorIs(t, r.err, context.Canceled, "the proxied waiter whose context was cancelled")
	p.Refuse(false)

	expect(t, true)(holder.release(ctx))
	released := time.Now()
	v2 := granted(t, nextRes, abandonedWaitBound, v,
		"the next waiter, once the network is back and the holder released: the waiter ahead of it gave up during the outage, its session alive (TTL %v) and its instance left open", max(e.h.SessionTTL, stableSessionTTL))
	t.Logf("the next waiter got the hold %v after the release", time.Since(released).Round(time.Millisecond))
	expect(t, true, "the next waiter's hold is in force")(next.current(ctx, v2))
	expect(t, true)(next.release(ctx))
}

// testLinearizableThroughCuts cuts the proxied client's connections every
// faultCutEvery; each client pauses faultPace after each operation, so
// that the history (linOps operations) spans many cuts: about a second.
const (
	faultCutEvery = 30 * time.Millisecond
	faultPace     = 10 * time.Millisecond
)

// testLinearizableThroughCuts: a Map history from several clients stays
// linearizable while one client's connections are cut again and again
// through the fault proxy. Its writes cut in flight are of unknown outcome
// (pending in the history: applied at any time after their call, or never),
// its reads cut in flight are left out; what every client was told must
// still be explained by one order of the operations.
func testLinearizableThroughCuts(t *testing.T, e *env) {
	skipIfGap(t, e.h, FeatureMap)
	p, d := e.proxied()
	cutOff := e.clientOn(d, e.ns)
	var maps []_map.Map[string, string]
	for _, c := range []*atomix.Client{cutOff, e.client(), e.client()} {
		m, err := atomix.GetMap[string, string](e.ctx, "lin", atomix.WithClient(c))
		require.NoError(t, err)
		maps = append(maps, m)
	}
	stop := make(chan struct{})
	cutting := make(chan int)
	go func() {
		cuts := 0
		defer func() { cutting <- cuts }()
		tick := time.NewTicker(faultCutEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				p.Cut()
				cuts++
			}
		}
	}()
	rec := linearize.RunMap(e.ctx, maps, linearize.Workload{Ops: linOps, Seed: 5, Done: func() { time.Sleep(faultPace) }})
	close(stop)
	cuts := <-cutting
	require.GreaterOrEqual(t, cuts, 5, "connection cuts during the history")
	pending := 0
	for _, op := range rec.Operations() {
		if op.ClientId == 0 && op.Output.(linearize.MapOutput).Unknown {
			pending++
		}
	}
	t.Logf("%d connection cuts; %d of the cut-off client's writes of unknown outcome", cuts, pending)
	checkHistory(t, linearize.MapModel(), rec)
}
