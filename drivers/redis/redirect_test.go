package redis

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// staleMapClient is a cluster client of a real Redis Cluster whose map of
// slots to masters is wrong, as a client's is that has not yet heard of a
// failover: the loads of the map that stale counts down return wrong(the
// real map), the later ones the real map.
type staleMapClient struct {
	*goredis.ClusterClient
	stale, loads atomic.Int32
}

func newStaleMapClient(t *testing.T, cluster *testbackend.Cluster, maxRedirects int, wrong func([]goredis.ClusterSlot) []goredis.ClusterSlot) *staleMapClient {
	t.Helper()
	seed := goredis.NewClient(&goredis.Options{Addr: cluster.Addrs[0]})
	t.Cleanup(func() { _ = seed.Close() })
	c := &staleMapClient{}
	c.stale.Store(1)
	c.ClusterClient = goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs: cluster.Addrs,
		ClusterSlots: func(ctx context.Context) ([]goredis.ClusterSlot, error) {
			c.loads.Add(1)
			real, err := seed.ClusterSlots(ctx).Result()
			if err != nil || c.stale.Add(-1) < 0 {
				return real, err
			}
			return wrong(real), nil
		},
		MaxRedirects:          maxRedirects,
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// makeStale has the next load of the map answered wrongly, and waits for
// that load.
func (c *staleMapClient) makeStale(t *testing.T, ctx context.Context) {
	t.Helper()
	c.stale.Store(1)
	before := c.loads.Load()
	c.ReloadState(ctx)
	for c.loads.Load() == before || c.stale.Load() > 0 {
		if ctx.Err() != nil {
			t.Fatal("the slot map was not reloaded")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the reloaded map is stored
}

// driverAndSession returns a driver over c and a session started with it,
// both closed when t ends.
func (c *staleMapClient) driverAndSession(t *testing.T, ctx context.Context) (*Driver, driver.Session) {
	t.Helper()
	d, err := NewFromClient(c.ClusterClient, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close(context.Background()) })
	s, err := d.NewSession(ctx, driver.SessionOptions{TTL: 5 * time.Second})
	mustSucceed(t, "start a session", err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return d, s
}

// rotateMasters returns a slot map that gives each range of real to the
// master of the next range.
func rotateMasters(real []goredis.ClusterSlot) []goredis.ClusterSlot {
	out := make([]goredis.ClusterSlot, len(real))
	for i, r := range real {
		next := real[(i+1)%len(real)]
		out[i] = goredis.ClusterSlot{Start: r.Start, End: r.End, Nodes: next.Nodes[:1]}
	}
	return out
}

// mustSucceed fails t if err is not nil, saying whether it was ErrInvalid.
func mustSucceed(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s with a stale slot map: %v (invalid: %v)", what, err, isKind(err, driver.ErrInvalid))
	}
}

// TestRedirectAfterStaleSlotMap runs the driver's call paths on a Redis
// Cluster through a client whose map gives each range of slots to another
// master and that follows no redirect itself (MaxRedirects -1), as if a
// failover's disagreeing nodes had worn out its redirects: every command
// is first answered MOVED. None may fail, with ErrInvalid least of all
// (before: "start a session ...: invalid argument: MOVED ...").
func TestRedirectAfterStaleSlotMap(t *testing.T) {
	testbackend.RequireClusters(t)
	cluster := testbackend.StartRedisCluster(t)
	runCallPaths(t, newStaleMapClient(t, cluster, -1, rotateMasters))
}

// runCallPaths makes c's slot map stale before each of the driver's call
// paths and checks that each succeeds once the map is reloaded: a
// session's start (SET) and renewal (a pipeline), a lock's acquisition
// and release (scripts, one sent once), a counter's increment (INCRBY,
// sent once) and read (GET).
func runCallPaths(t *testing.T, c *staleMapClient) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, s := c.driverAndSession(t, ctx)

	c.makeStale(t, ctx)
	_, err := s.(*session).renew(ctx)
	mustSucceed(t, "renew a session", err)

	c.makeStale(t, ctx)
	l, err := d.OpenLock(ctx, testID(t, "l"))
	mustSucceed(t, "open a lock", err)
	defer l.Close(ctx)
	h, err := l.Acquire(ctx, s, "o")
	mustSucceed(t, "acquire a lock", err)

	c.makeStale(t, ctx)
	_, err = l.Release(ctx, "o", h.Version)
	mustSucceed(t, "release a lock", err)

	c.makeStale(t, ctx)
	ctr, err := d.OpenCounter(ctx, testID(t, "c"))
	mustSucceed(t, "open a counter", err)
	defer ctr.Close(ctx)
	_, err = ctr.Add(ctx, 1)
	mustSucceed(t, "increment a counter", err)

	c.makeStale(t, ctx)
	_, err = ctr.Get(ctx)
	mustSucceed(t, "read a counter", err)
}

// TestDeadMasterInSlotMap starts from a slot map that gives every slot to
// an address where nothing listens, as a client's map names a master that
// died until it is reloaded (go-redis reloads it only after a redirect, or
// after a minute). The hub's pub/sub connection, which go-redis dials at
// the master of its first channel's slot, must reach a live node (before:
// the subscription waited for the periodic reload, past the test's
// deadline), and so must every call path of runCallPaths (before: "start a
// session ...: unavailable: dial tcp ...: connection refused").
func TestDeadMasterInSlotMap(t *testing.T) {
	testbackend.RequireClusters(t)
	cluster := testbackend.StartRedisCluster(t)
	dead := "127.0.0.1:" + itoa(testbackend.FreePort(t))
	// go-redis's pool redials a dead address in a goroutine that sleeps a
	// second between dials and notices its client's Close only then: let
	// it end before TestMain looks for goroutines left behind.
	t.Cleanup(func() { time.Sleep(1100 * time.Millisecond) })
	toDead := func(real []goredis.ClusterSlot) []goredis.ClusterSlot {
		return []goredis.ClusterSlot{{Start: 0, End: 16383, Nodes: []goredis.ClusterNode{{Addr: dead}}}}
	}

	t.Run("Hub", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		cc := newStaleMapClient(t, cluster, 3, toDead)
		h := newHub(cc.ClusterClient)
		defer h.close()
		l := &nopListener{}
		if err := h.subscribe(ctx, "ch", l); err != nil {
			t.Fatalf("subscribe with a slot map naming a dead master: %v", err)
		}
		h.unsubscribe("ch", l)
	})

	t.Run("Driver", func(t *testing.T) {
		runCallPaths(t, newStaleMapClient(t, cluster, 3, toDead))
	})
}

// nopListener is a hub listener that ignores what it hears.
type nopListener struct{}

func (*nopListener) message(string) {}
func (*nopListener) resubscribed()  {}
