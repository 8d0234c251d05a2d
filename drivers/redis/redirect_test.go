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

// TestRedirectAfterStaleSlotMap runs the driver's call paths on a Redis
// Cluster through a client whose map of slots to masters is wrong (each
// range given to another master, as a client that has not yet heard of a
// failover has it) and that follows no redirect itself (MaxRedirects -1),
// as if a failover's disagreeing nodes had worn out its redirects: every
// command is first answered MOVED. A session's start (SET), its renewal
// (a pipeline), a script (a lock's acquisition), a plain write (INCRBY)
// and a read must all succeed once the map is reloaded; none may fail with
// ErrInvalid (before: "lock: start session: invalid argument: MOVED ...").
func TestRedirectAfterStaleSlotMap(t *testing.T) {
	testbackend.RequireClusters(t)
	cluster := testbackend.StartRedisCluster(t)
	ctx := testContext(t)

	seed := goredis.NewClient(&goredis.Options{Addr: cluster.Addrs[0]})
	defer seed.Close()
	var stale atomic.Int32 // loads of the map still to be answered wrongly
	stale.Store(1)
	var loads atomic.Int32
	slots := func(ctx context.Context) ([]goredis.ClusterSlot, error) {
		loads.Add(1)
		real, err := seed.ClusterSlots(ctx).Result()
		if err != nil || stale.Add(-1) < 0 {
			return real, err
		}
		return rotateMasters(real), nil
	}
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:                 cluster.Addrs,
		ClusterSlots:          slots,
		MaxRedirects:          -1,
		ContextTimeoutEnabled: true,
	})
	defer cc.Close()
	d, err := NewFromClient(cc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)

	// makeStale has the next load of the map answered wrongly, and waits
	// for that load.
	makeStale := func() {
		t.Helper()
		stale.Store(1)
		before := loads.Load()
		cc.ReloadState(ctx)
		for loads.Load() == before || stale.Load() > 0 {
			if ctx.Err() != nil {
				t.Fatal("the slot map was not reloaded")
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // the reloaded map is stored
	}

	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s with a stale slot map: %v (invalid: %v)", what, err, isKind(err, driver.ErrInvalid))
		}
	}
	s, err := d.NewSession(ctx, driver.SessionOptions{TTL: 5 * time.Second})
	check("start a session", err)
	defer s.Close(ctx)

	makeStale()
	_, err = s.(*session).renew(ctx)
	check("renew a session", err)

	makeStale()
	l, err := d.OpenLock(ctx, testID(t, "l"))
	check("open a lock", err)
	defer l.Close(ctx)
	h, err := l.Acquire(ctx, s, "o")
	check("acquire a lock", err)

	makeStale()
	_, err = l.Release(ctx, "o", h.Version)
	check("release a lock", err)

	makeStale()
	c, err := d.OpenCounter(ctx, testID(t, "c"))
	check("open a counter", err)
	defer c.Close(ctx)
	_, err = c.Add(ctx, 1)
	check("increment a counter", err)

	makeStale()
	_, err = c.Get(ctx)
	check("read a counter", err)
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
