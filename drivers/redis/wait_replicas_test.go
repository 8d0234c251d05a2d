package redis_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/redis"
)

// TestClusterSentinelWaitReplicas takes a lock on a primary with one
// replica: with wait-replicas=1 the replica acknowledges and the lock is
// granted; with wait-replicas=2 it cannot be, so Lock fails with
// ErrUnavailable and leaves no hold behind.
func TestClusterSentinelWaitReplicas(t *testing.T) {
	testbackend.RequireClusters(t)
	cluster := testbackend.StartRedisSentinel(t)
	testWaitReplicas(t, &goredis.UniversalOptions{
		Addrs:                 cluster.Addrs,
		MasterName:            testbackend.RedisSentinelMaster,
		ContextTimeoutEnabled: true,
	})
}

// TestClusterRedisWaitReplicas is TestClusterSentinelWaitReplicas on a
// Redis Cluster whose masters have one replica each: the WAIT must reach
// the node that ran the lock's script, whichever master that is.
func TestClusterRedisWaitReplicas(t *testing.T) {
	testbackend.RequireClusters(t)
	cluster := testbackend.StartRedisCluster(t)
	testWaitReplicas(t, &goredis.UniversalOptions{
		Addrs:                 cluster.Addrs,
		IsClusterMode:         true,
		ContextTimeoutEnabled: true,
	})
}

func testWaitReplicas(t *testing.T, clientOpts *goredis.UniversalOptions) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := func(opts redis.Options) *atomix.Client {
		o := *clientOpts
		d, err := redis.New(&o, opts)
		if err != nil {
			t.Fatal(err)
		}
		c := atomix.NewClient(atomix.WithDriver(d), atomix.WithNamespace("wait-replicas"))
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	one, two := client(redis.Options{WaitReplicas: 1}), client(redis.Options{WaitReplicas: 2, WaitTimeout: 200 * time.Millisecond})
	// Several names, so that on a cluster the locks land on several masters.
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		l1, err := one.GetLock(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		v, err := l1.Lock(ctx)
		if err != nil {
			t.Fatalf("Lock %q with wait-replicas=1 and one replica: %v", name, err)
		}
		if _, err := l1.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		l2, err := two.GetLock(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = l2.Lock(ctx)
		if !errors.Is(err, atomix.ErrUnavailable) || errors.Is(err, atomix.ErrAmbiguous) {
			t.Fatalf("Lock %q with wait-replicas=2 and one replica: want ErrUnavailable, got %v", name, err)
		}
		if name == "a" {
			t.Logf("refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
		}
		held, err := l1.IsLocked(ctx)
		if err != nil || held {
			t.Fatalf("lock %q: the hold that too few replicas acknowledged was left behind: held %v, err %v", name, held, err)
		}
		if v2, err := l1.Lock(ctx); err != nil || v2 <= v {
			t.Fatalf("Lock %q after the refused one: version %d (before %d), err %v", name, v2, v, err)
		}
	}
}

// TestWaitReplicasOptions checks the options' validation and the URL keys.
func TestWaitReplicasOptions(t *testing.T) {
	for _, o := range []redis.Options{{WaitReplicas: -1}, {WaitReplicas: 1, WaitTimeout: -time.Second}} {
		if _, err := redis.New(&goredis.UniversalOptions{Addrs: []string{"127.0.0.1:1"}}, o); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("New with %+v: want ErrInvalid, got %v", o, err)
		}
	}
	u, _ := url.Parse("redis://127.0.0.1:6379/?wait-replicas=2&wait-timeout=500ms")
	_, opts, err := redis.ParseURL(u)
	if err != nil || opts.WaitReplicas != 2 || opts.WaitTimeout != 500*time.Millisecond {
		t.Errorf("ParseURL: %+v, %v", opts, err)
	}
	for _, bad := range []string{"wait-replicas=x", "wait-replicas=-1", "wait-timeout=soon"} {
		u, _ := url.Parse("redis://127.0.0.1:6379/?" + bad)
		if _, _, err := redis.ParseURL(u); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("ParseURL ?%s: want ErrInvalid, got %v", bad, err)
		}
	}
}
