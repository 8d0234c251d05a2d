package conformance

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/counter"
	"github.com/atomix/go-client/atomix/lock"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/conformance/linearize"
	"github.com/atomix/go-client/driver"
)

// ClusterHarness tells the cluster scenarios how to reach a multi-node
// backend of the test's own and how to take its most important node away.
type ClusterHarness struct {
	// Name names the backend in test output, e.g. "etcd-3".
	Name string

	// NewDriver returns a new, independent driver connected to the cluster
	// the way an application would be (every member's address, the
	// Sentinels, a local Consul agent).
	NewDriver func(ctx context.Context, t testing.TB) (driver.Driver, error)

	// StopLeader kills (as a crash would) the node whose loss matters most
	// at the time of the call: the Raft leader of etcd or Consul, the Redis
	// Cluster master that holds the most keys, the Sentinel-managed
	// primary. It returns a function that starts that node again on its
	// data.
	StopLeader func(t testing.TB) (restart func())

	// Durable declares that the backend loses nothing it acknowledged when
	// one node of the cluster is lost (a Raft quorum: etcd, Consul): the
	// scenarios then require every acknowledged write to survive, fencing
	// versions to keep increasing and sessions to outlive the leader
	// change. Without it (Redis, whose replication is asynchronous) they
	// require what holds anyway (service resumes, errors are typed, nothing
	// is applied twice) and record what was lost, which the driver's
	// documentation must explain.
	Durable bool

	// Recovery bounds how long the cluster may take to serve again after
	// StopLeader (an election, a failover); the scenarios fail past it.
	// Locks may take a session expiry longer (see SessionTTL).
	Recovery time.Duration

	// DescribeLock, if set, describes for a failure message the backend's
	// state of the lock id, read through d: its holder, its waiters and
	// whether their sessions live. The scenario calls it when the lock
	// makes no progress.
	DescribeLock func(ctx context.Context, d driver.Driver, id driver.ID) string

	// SessionTTL is the session TTL of the clients that take turns at the
	// lock. A holder whose release fails while the leader is away leaves
	// its hold to its session's expiry (releasing never leaves a hold
	// behind, but it may take a TTL), so the workload's lock progress is
	// awaited up to 3 x SessionTTL + 15s after Recovery. The client that
	// holds a lock throughout has a long TTL, which must survive.
	SessionTTL time.Duration
}

// clusterCallTimeout bounds each call of the cluster workload, as an
// application's request deadline would.
const clusterCallTimeout = 2 * time.Second

// RunClusterFailover runs a workload on the cluster that h describes and
// kills the leader in the middle of it (then starts it again): two clients
// increment a counter, two take turns at a lock, one writes map entries,
// and a third lock is held throughout by a client whose session must
// outlive the leader change. Every error must be ErrTimeout, ErrUnavailable
// or ErrAmbiguous, every call kind must succeed again within h.Recovery,
// and no write may be applied twice; with h.Durable, no acknowledged write
// may be lost, fencing versions must strictly increase from holder to
// holder and the lock held throughout must still be held.
//
// With h.Durable, a Map and a Counter history from clusterLinClients
// clients each, recorded from just before the leader is stopped through
// the election that follows, must also be linearizable (calls of unknown
// outcome pending, reads of unknown outcome left out).
func RunClusterFailover(t *testing.T, h ClusterHarness) {
	if h.NewDriver == nil || h.StopLeader == nil || h.SessionTTL <= 0 {
		t.Fatal("conformance: ClusterHarness.NewDriver, StopLeader and SessionTTL are needed")
	}
	if h.Recovery <= 0 {
		h.Recovery = 30 * time.Second
	}
	e := newEnv(t, Harness{Name: h.Name, NewDriver: h.NewDriver, SessionTTL: h.SessionTTL})
	w := newClusterWorkload(e)
	if h.DescribeLock != nil {
		w.describeLock = func(ctx context.Context) string {
			return h.DescribeLock(ctx, e.driver(), driver.ID{Namespace: e.ns, Name: "l"})
		}
	}

	// The hold that must outlive the leader change.
	kept := e.lock(e.client(), "kept")
	keptVersion := acquire(t, e.ctx, kept, 0)

	w.start()
	w.waitProgress(t, e.event, "before the leader is stopped")
	var histories *clusterHistories
	if h.Durable {
		histories = startClusterHistories(e)
	}
	restart := h.StopLeader(t)
	stopped := time.Now()
	w.waitProgress(t, h.Recovery+e.expiry, "after the leader was stopped")
	t.Logf("%s: every call kind succeeded again %v after the leader was stopped", h.Name, time.Since(stopped).Round(time.Millisecond))
	restart()
	restarted := time.Now()
	w.waitProgress(t, h.Recovery+e.expiry, "after the stopped node was started again")
	t.Logf("%s: every call kind succeeded %v after the stopped node was started again", h.Name, time.Since(restarted).Round(time.Millisecond))
	w.stop()
	require.Empty(t, w.unexplained(), "errors no node loss explains (want ErrTimeout, ErrUnavailable or ErrAmbiguous)")
	if histories != nil {
		histories.check(t)
	}

	check := e.client()
	c := e.counter(check, "c")
	v, err := c.Get(e.ctx)
	require.NoError(t, err)
	acked, amb := w.counter.acked.Load(), w.counter.ambiguous.Load()
	t.Logf("%s: counter %d: %d acknowledged increments, %d ambiguous, %d failed plainly", h.Name, v, acked, amb, w.counter.failed.Load())
	require.LessOrEqual(t, v, acked+amb, "no increment is applied twice or after failing plainly")

	m, err := atomix.GetMap[string, string](e.ctx, "m", atomix.WithClient(check))
	require.NoError(t, err)
	var lostPuts []string
	for _, k := range w.ackedPuts() {
		if _, err := m.Get(e.ctx, k); err != nil {
			lostPuts = append(lostPuts, fmt.Sprintf("%s (%v)", k, err))
		}
	}
	keptHeld, err := e.lock(check, "kept").IsLocked(e.ctx, lock.WithVersion(keptVersion))
	require.NoError(t, err)
	keptLost := isDone(kept.Lost())
	t.Logf("%s: %d lock holds, %d fencing regressions, %d of %d acknowledged map writes lost, the hold from before the stop still held: %v (Lost closed: %v)",
		h.Name, w.holds.Load(), len(w.regressions), len(lostPuts), len(w.ackedPuts()), keptHeld, keptLost)
	if !h.Durable {
		t.Logf("%s declares no durability across a node loss: losses above are recorded, not failures", h.Name)
		return
	}
	require.GreaterOrEqual(t, v, acked, "every acknowledged increment survives the loss of the leader")
	require.Empty(t, w.regressions, "fencing versions strictly increase from holder to holder across the leader change")
	require.Empty(t, lostPuts, "every acknowledged map write survives the loss of the leader")
	require.True(t, keptHeld, "a lock held before the leader was stopped is still held after it (its session survives)")
	require.False(t, keptLost, "Lost of a hold whose session survives the leader change")
	expect(t, true)(kept.Unlock(e.ctx))
}

// The linearizability histories of RunClusterFailover: clusterLinClients
// clients share clusterLinOps operations on a Map and on a Counter, each
// pausing clusterLinPace after each operation so that the histories span
// the leader's loss (an election of a second or two) and its return.
const (
	clusterLinClients = 3
	clusterLinOps     = 300
	clusterLinPace    = 20 * time.Millisecond
)

// clusterHistories records a Map and a Counter history during a failover.
type clusterHistories struct {
	done         chan struct{}
	maps, counts *linearize.Recorder
}

// startClusterHistories starts recording both histories, each client on a
// driver (connection) of its own.
func startClusterHistories(e *env) *clusterHistories {
	var maps []_map.Map[string, string]
	var counters []counter.Counter
	for range clusterLinClients {
		c := e.client()
		m, err := atomix.GetMap[string, string](e.ctx, "lin-m", atomix.WithClient(c))
		require.NoError(e.t, err)
		maps = append(maps, m)
		counters = append(counters, e.counter(c, "lin-c"))
	}
	h := &clusterHistories{done: make(chan struct{})}
	pace := func() { time.Sleep(clusterLinPace) }
	var wg sync.WaitGroup
	wg.Go(func() {
		h.maps = linearize.RunMap(e.ctx, maps, linearize.Workload{Ops: clusterLinOps, Seed: 11, Done: pace})
	})
	wg.Go(func() {
		h.counts = linearize.RunCounter(e.ctx, counters, linearize.Workload{Ops: clusterLinOps, Seed: 12, Done: pace})
	})
	go func() { wg.Wait(); close(h.done) }()
	return h
}

// check waits for both histories and fails t if either is not
// linearizable.
func (h *clusterHistories) check(t *testing.T) {
	t.Helper()
	<-h.done
	t.Run("MapLinearizable", func(t *testing.T) { checkHistory(t, linearize.MapModel(), h.maps) })
	t.Run("CounterLinearizable", func(t *testing.T) { checkHistory(t, linearize.CounterModel(), h.counts) })
}

// clusterWorkload is the traffic of RunClusterFailover.
type clusterWorkload struct {
	e      *env
	stopCh chan struct{}
	wg     sync.WaitGroup

	counter outcomes
	holds   atomic.Int64
	// progress counts successes per call kind since the last waitProgress.
	counterOK, lockOK, putOK atomic.Int64

	// lockers says what each client taking turns at the lock is doing,
	// for a failure message; describeLock (optional) describes the lock's
	// state on the backend.
	lockers      [2]lockerState
	describeLock func(ctx context.Context) string

	mu          sync.Mutex
	lastVersion uint64
	regressions []string
	acked       []string // acknowledged map keys
	errs        []error  // errors no fault explains
	lastErr     error    // the last error of any call, for a failure message
}

func newClusterWorkload(e *env) *clusterWorkload {
	return &clusterWorkload{e: e, stopCh: make(chan struct{})}
}

// call runs f with the workload's call timeout.
func (w *clusterWorkload) call(f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(w.e.ctx, clusterCallTimeout)
	defer cancel()
	return f(ctx)
}

// fault records err if no fault explains it, and pauses a little after an
// error, which a down node may return at once.
func (w *clusterWorkload) fault(err error) {
	if err == nil {
		return
	}
	w.mu.Lock()
	w.lastErr = err
	w.mu.Unlock()
	if !isAny(err, driver.ErrTimeout, driver.ErrUnavailable, driver.ErrAmbiguous) {
		w.mu.Lock()
		w.errs = append(w.errs, err)
		w.mu.Unlock()
	}
	time.Sleep(20 * time.Millisecond)
}

func (w *clusterWorkload) stopped() bool {
	select {
	case <-w.stopCh:
		return true
	default:
		return false
	}
}

func (w *clusterWorkload) start() {
	e := w.e
	for range 2 {
		c := e.counter(e.client(), "c")
		w.wg.Go(func() {
			for !w.stopped() {
				err := w.call(func(ctx context.Context) error { _, err := c.Increment(ctx, 1); return err })
				if w.counter.record(err) == nil && err == nil {
					w.counterOK.Add(1)
				}
				w.fault(err)
			}
		})
	}
	for i := range w.lockers {
		l := e.lock(e.expiringClientOn(e.driver(), e.ns), "l")
		st := &w.lockers[i]
		w.wg.Go(func() {
			for !w.stopped() {
				var v uint64
				st.set("in Lock", nil)
				err := w.call(func(ctx context.Context) (err error) { v, err = l.Lock(ctx); return err })
				if err != nil {
					st.set("Lock failed", err)
					w.fault(err)
					continue
				}
				w.granted(v)
				st.set(fmt.Sprintf("holding version %d, in Unlock", v), nil)
				err = w.call(func(ctx context.Context) error { _, err := l.Unlock(ctx); return err })
				if err != nil {
					st.set(fmt.Sprintf("Unlock of version %d failed", v), err)
				}
				w.fault(err)
			}
		})
	}
	m, err := atomix.GetMap[string, string](e.ctx, "m", atomix.WithClient(e.client()))
	require.NoError(e.t, err)
	w.wg.Go(func() {
		for i := 0; !w.stopped(); i++ {
			k := fmt.Sprintf("k%04d", i)
			err := w.call(func(ctx context.Context) error { _, err := m.Put(ctx, k, "v"); return err })
			if err == nil {
				w.mu.Lock()
				w.acked = append(w.acked, k)
				w.mu.Unlock()
				w.putOK.Add(1)
			}
			w.fault(err)
		}
	})
}

// granted records a lock grant: holders are serialized by the lock, so
// each grant's version must exceed the one before.
func (w *clusterWorkload) granted(v uint64) {
	w.holds.Add(1)
	w.lockOK.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if v <= w.lastVersion {
		w.regressions = append(w.regressions, fmt.Sprintf("%d after %d", v, w.lastVersion))
	}
	w.lastVersion = max(w.lastVersion, v)
}

// waitProgress resets the success counts and waits until every call kind
// has succeeded again, failing t after d.
func (w *clusterWorkload) waitProgress(t testing.TB, d time.Duration, what string) {
	t.Helper()
	w.counterOK.Store(0)
	w.lockOK.Store(0)
	w.putOK.Store(0)
	deadline := time.Now().Add(d)
	for w.counterOK.Load() < 3 || w.lockOK.Load() < 3 || w.putOK.Load() < 3 {
		if time.Now().After(deadline) {
			w.mu.Lock()
			last := w.lastErr
			w.mu.Unlock()
			require.FailNowf(t, "the cluster does not serve again", "not within %v: counter increments, lock holds and map writes succeed %s: %d, %d and %d successes; the last error: %v\n%s",
				d, what, w.counterOK.Load(), w.lockOK.Load(), w.putOK.Load(), last, w.lockReport())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lockReport describes the lock workload: what each client does, since
// when, its last error, and the lock's state on the backend if the harness
// can tell.
func (w *clusterWorkload) lockReport() string {
	var b strings.Builder
	for i := range w.lockers {
		fmt.Fprintf(&b, "lock client %d: %s\n", i, w.lockers[i].String())
	}
	if w.describeLock != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		fmt.Fprintf(&b, "lock state: %s\n", w.describeLock(ctx))
	}
	return b.String()
}

// lockerState is what one client of the lock workload is doing.
type lockerState struct {
	mu      sync.Mutex
	doing   string
	since   time.Time
	lastErr error
}

// set records that the client is doing what, and err if not nil.
func (s *lockerState) set(what string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doing, s.since = what, time.Now()
	if err != nil {
		s.lastErr = err
	}
}

func (s *lockerState) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%s for %v (the last error: %v)", s.doing, time.Since(s.since).Round(time.Millisecond), s.lastErr)
}

func (w *clusterWorkload) stop() {
	close(w.stopCh)
	w.wg.Wait()
}

func (w *clusterWorkload) unexplained() []error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.errs
}

func (w *clusterWorkload) ackedPuts() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.acked
}
