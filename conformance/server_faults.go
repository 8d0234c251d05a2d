package conformance

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/counter"
	"github.com/atomix/go-client/atomix/lock"
	"github.com/atomix/go-client/driver"
)

// The call timeout of the workloads that run while a server is paused: a
// caller that cannot wait, as a request handler with its own deadline.
const pausedCallTimeout = 500 * time.Millisecond

// testServerFaults is the part of the fault tier that pauses and restarts a
// server. Each scenario starts a server of its own (Harness.StartServer),
// so the shared backend of the other tests is never disturbed.
func testServerFaults(t *testing.T, h Harness) {
	if reason, ok := h.Gaps[FeatureServerFaults]; ok {
		t.Skipf("gap: %s: %s", FeatureServerFaults, reason)
	}
	if h.StartServer == nil || h.NewDriverAt == nil {
		t.Fatalf("conformance: Harness.StartServer and Harness.NewDriverAt are needed for the server fault scenarios (or declare the %q gap)", FeatureServerFaults)
	}
	parallel(t, "WritesDuringPause", h, testWritesDuringPause)
	parallel(t, "WatchAcrossRestart", h, testWatchAcrossRestart)
	parallel(t, "RestartEmpty", h, testRestartEmpty)
}

// ownServer starts a server of the subtest's own and returns it with a
// function that connects a new client to it.
func (e *env) ownServer() (Server, func() *atomix.Client) {
	e.t.Helper()
	srv := e.h.StartServer(e.t)
	return srv, func() *atomix.Client {
		e.t.Helper()
		d, err := e.h.NewDriverAt(e.ctx, e.t, srv.Addr())
		require.NoError(e.t, err, "Harness.NewDriverAt(%s)", srv.Addr())
		e.t.Cleanup(func() {
			ctx, cancel := cleanupContext()
			defer cancel()
			_ = d.Close(ctx)
		})
		return e.clientOn(d, e.ns)
	}
}

// outcomes counts the results of writes that each add one.
type outcomes struct {
	acked, ambiguous, failed atomic.Int64
}

// record counts err, the result of one write; it returns an error for a
// result a network or server fault cannot explain.
func (o *outcomes) record(err error) error {
	switch {
	case err == nil:
		o.acked.Add(1)
	case errors.Is(err, driver.ErrAmbiguous):
		o.ambiguous.Add(1)
	case isAny(err, driver.ErrTimeout, driver.ErrUnavailable):
		o.failed.Add(1)
	default:
		return err
	}
	return nil
}

// requireCounterWithin requires the counter's value (read by get) to be
// between the acknowledged increments and those plus the ambiguous ones:
// no acknowledged write lost, none applied twice, none that failed plainly.
func (o *outcomes) requireCounterWithin(t testing.TB, ctx context.Context, what string, get func(context.Context) (int64, error)) {
	t.Helper()
	v, err := get(ctx)
	require.NoError(t, err, "read %s", what)
	acked, amb := o.acked.Load(), o.ambiguous.Load()
	t.Logf("%s: %d acknowledged, %d ambiguous, %d failed plainly; value %d", what, acked, amb, o.failed.Load(), v)
	require.GreaterOrEqual(t, v, acked, "%s: every acknowledged increment is applied", what)
	require.LessOrEqual(t, v, acked+amb, "%s: no increment is applied that failed plainly or twice", what)
}

// testWritesDuringPause: writers with a short call timeout keep
// incrementing a counter while the server is frozen and after it resumes.
// Every error is ErrTimeout, ErrUnavailable or ErrAmbiguous, writes succeed
// again after the pause, and the counter ends between the acknowledged
// increments and those plus the ambiguous ones.
func testWritesDuringPause(t *testing.T, e *env) {
	srv, connect := e.ownServer()
	const writers = 2
	counters := make([]counter.Counter, writers)
	for i := range counters {
		counters[i] = e.counter(connect(), "c")
		_, err := counters[i].Get(e.ctx) // connected before the pause
		require.NoError(t, err)
	}
	var o outcomes
	var resumed atomic.Bool
	var afterResume atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for _, c := range counters {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(e.ctx, pausedCallTimeout)
				_, err := c.Increment(ctx, 1)
				cancel()
				if err := o.record(err); err != nil {
					errs <- err
					return
				}
				if err == nil && resumed.Load() {
					afterResume.Add(1)
				}
				if err != nil {
					time.Sleep(10 * time.Millisecond) // a failing call may return at once
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	srv.Pause()
	paused := time.Now()
	time.Sleep(4 * pausedCallTimeout)
	srv.Resume()
	resumed.Store(true)
	t.Logf("server paused for %v", time.Since(paused).Round(time.Millisecond))
	waitFor(t, e.event, "writes succeed again after the server resumed", func() bool { return afterResume.Load() >= 2*writers })
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.Failf(t, "a write during a server pause failed with an error no pause explains",
			"want ErrTimeout, ErrUnavailable or ErrAmbiguous: %v", err)
	}
	require.Positive(t, o.ambiguous.Load()+o.failed.Load(), "no write failed while the server was paused for %v with %v call timeouts", 4*pausedCallTimeout, pausedCallTimeout)
	o.requireCounterWithin(t, e.ctx, "the counter written during a pause", e.counter(connect(), "c").Get)
}

// testWatchAcrossRestart: a watcher keeps watching a map while the server
// is killed and started again on its data; replaying its events from the
// empty map gives exactly the final state, however the driver resumed (from
// where it was, or from a new snapshot whose differences it reports).
func testWatchAcrossRestart(t *testing.T, e *env) {
	srv, connect := e.ownServer()
	spec := mapWatchSpec()
	writer, watcher := connect(), connect()
	step, err := spec.newWriter(e.ctx, writer, "m")
	require.NoError(t, err)
	w, err := spec.open(e.ctx, watcher, "m")
	require.NoError(t, err)
	ch := make(chan mapEvent)
	require.NoError(t, w.Watch(e.ctx, ch))
	events := collect(ch)

	var want []mapEvent
	i := 0
	for range 40 {
		want = append(want, change(t, e.ctx, step, &i)...)
	}
	srv.RestartKeepingData()
	// The writer's first calls after the restart may fail while its
	// connection is re-established; retry a read until it is back, so that
	// each write below has the outcome the writer's model expects.
	probe := e.counter(writer, "probe")
	waitFor(t, e.event, "the client reaches the restarted server", func() bool {
		ctx, cancel := context.WithTimeout(e.ctx, time.Second)
		defer cancel()
		_, err := probe.Get(ctx)
		return err == nil
	})
	for range 40 {
		want = append(want, change(t, e.ctx, step, &i)...)
	}
	conv := newConvergence(t, spec, nil, want)
	conv.require(t, events.waitFor(conv.done, e.event), "a watcher across a restart with data")
	time.Sleep(e.quiet)
	conv.require(t, events.waitFor(conv.done, 0), "a watcher across a restart with data, after a pause")
}

// testRestartEmpty: the server is killed and started again with no data.
// The clients must work again (a new lock is granted, a counter reads),
// and, where the harness declares VersionsSurviveEmptyRestart, the lock's
// fencing version must be above every one before; otherwise the suite
// records what happened, which the driver's documentation must state.
func testRestartEmpty(t *testing.T, e *env) {
	srv, connect := e.ownServer()
	c := connect()
	l := e.lock(c, "l")
	var last uint64
	for range 3 {
		last = acquire(t, e.ctx, l, last)
		expect(t, true)(l.Unlock(e.ctx))
	}
	cn := e.counter(c, "c")
	expect(t, int64(5))(cn.Set(e.ctx, 5))

	srv.Restart()
	// The client learns that its session is gone at its next renewal, up
	// to a third of its TTL later, and then starts another.
	var after uint64
	waitFor(t, e.event+stableSessionTTL, "a lock granted after the server restarted empty", func() bool {
		ctx, cancel := context.WithTimeout(e.ctx, time.Second)
		defer cancel()
		v, err := l.Lock(ctx)
		if err != nil {
			return false
		}
		after = v
		return true
	})
	require.False(t, isDone(l.Lost()), "a lock granted on the restarted server")
	expect(t, true)(l.IsLocked(e.ctx, lock.WithVersion(after)))
	v, err := cn.Get(e.ctx)
	require.NoError(t, err, "a counter read after the server restarted empty")
	t.Logf("after an empty restart: lock version %d (last before: %d), counter %d (5 before)", after, last, v)
	if e.h.VersionsSurviveEmptyRestart {
		require.Greater(t, after, last, "Harness.VersionsSurviveEmptyRestart: fencing versions keep increasing across an empty restart")
	} else if after <= last {
		t.Logf("fencing versions went back across an empty restart (%d after %d), as a backend that restarts empty does", after, last)
	}
	expect(t, true)(l.Unlock(e.ctx))
}
