package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/conformance/faultproxy"
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
// was lost with its connection, is ErrAmbiguous.
func testLostReplyIsAmbiguous(t *testing.T, e *env) {
	p, d := e.proxied()
	m, err := d.OpenMap(e.ctx, e.id("m"))
	require.NoError(t, err)
	defer m.Close(e.ctx)
	_, err = m.Put(e.ctx, "k", []byte("before"), 0) // the connection is up
	require.NoError(t, err)

	direct, err := e.driver().OpenMap(e.ctx, e.id("m"))
	require.NoError(t, err)
	defer direct.Close(e.ctx)

	p.DropReplies(true)
	put := async(func() (driver.Entry, error) { return m.Put(e.ctx, "k", []byte("during"), 0) })
	waitFor(t, e.event, "the write applied on the backend", func() bool {
		got, err := direct.Get(e.ctx, "k")
		return err == nil && string(got.Value) == "during"
	})
	p.Cut()
	p.DropReplies(false)
	r := await(t, put, e.event, "a write whose connection was cut")
	require.ErrorIs(t, r.err, driver.ErrAmbiguous, "a write applied whose reply was lost")
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
	p.Cut()
	p.DropReplies(false)
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
