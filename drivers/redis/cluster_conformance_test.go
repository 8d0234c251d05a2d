package redis_test

import (
	"context"
	"maps"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/conformance"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/redis"
)

// clusterGaps are the gaps of the suite on a multi-node Redis: the cluster
// scenarios take nodes away instead of the fault tier.
var clusterGaps = map[conformance.Feature]string{
	conformance.FeatureFaults:       "a multi-node client follows the nodes' own addresses, around a single proxy; the cluster scenarios take nodes away instead",
	conformance.FeatureServerFaults: "the cluster scenarios (TestCluster*/Failover) take nodes away instead",
	conformance.FeaturePermissions:  "no ACL on these servers: TestConformanceLeastPrivilege runs the tier on one server",
}

// fencedOnClusterGap is the gap of fenced writes on a Redis Cluster.
const fencedOnClusterGap = "a lock and a map are in different hash slots, which one script cannot both read"

// withGaps returns the union of gap lists.
func withGaps(lists ...map[conformance.Feature]string) map[conformance.Feature]string {
	all := map[conformance.Feature]string{}
	for _, l := range lists {
		maps.Copy(all, l)
	}
	return all
}

// TestClusterRedis runs the cluster scenarios and the conformance suite on
// a Redis Cluster of its own: three masters, each with a replica (set
// ATOMIX_TEST_CLUSTERS; make test-clusters runs the suite's Map, Counter
// and Lock parts). Replication is asynchronous, so the failover of a master
// may lose what it acknowledged last: the scenario is not Durable.
func TestClusterRedis(t *testing.T) {
	testbackend.RequireClusters(t)
	cluster := testbackend.StartRedisCluster(t)
	newDriver := func(context.Context, testing.TB) (driver.Driver, error) {
		return redis.New(&goredis.UniversalOptions{
			Addrs:                 cluster.Addrs,
			IsClusterMode:         true,
			ContextTimeoutEnabled: true,
		}, redis.Options{})
	}
	runRedisCluster(t, "redis-cluster", newDriver, cluster, withGaps(clusterGaps, map[conformance.Feature]string{
		conformance.FeatureFenced: fencedOnClusterGap,
	}))
}

// TestClusterSentinel runs the cluster scenarios and the conformance suite
// on a Redis primary with one replica, managed by a Sentinel (set
// ATOMIX_TEST_CLUSTERS). A failover promotes the replica, which may lack
// the primary's last writes: the scenario is not Durable.
func TestClusterSentinel(t *testing.T) {
	testbackend.RequireClusters(t)
	cluster := testbackend.StartRedisSentinel(t)
	newDriver := func(context.Context, testing.TB) (driver.Driver, error) {
		return redis.New(&goredis.UniversalOptions{
			Addrs:                 cluster.Addrs,
			MasterName:            testbackend.RedisSentinelMaster,
			ContextTimeoutEnabled: true,
		}, redis.Options{})
	}
	runRedisCluster(t, "redis-sentinel", newDriver, cluster, clusterGaps)
}

func runRedisCluster(t *testing.T, name string, newDriver func(context.Context, testing.TB) (driver.Driver, error), cluster *testbackend.Cluster, gaps map[conformance.Feature]string) {
	// The suite runs first, on a settled cluster; the failover scenario,
	// which takes a member away, runs last, so that no test of the suite
	// meets the cluster still recovering from it.
	t.Run("Suite", func(t *testing.T) {
		conformance.Run(t, conformance.Harness{
			Name:       name,
			NewDriver:  newDriver,
			Crash:      func(d driver.Driver) { d.(*redis.Driver).Crash() },
			SessionTTL: conformanceTTL,
			Gaps:       gaps,
		})
	})
	t.Run("Failover", func(t *testing.T) {
		conformance.RunClusterFailover(t, conformance.ClusterHarness{
			Name:         name,
			NewDriver:    newDriver,
			StopLeader:   cluster.StopLeader,
			Durable:      false,
			Recovery:     30 * time.Second,
			SessionTTL:   conformanceTTL,
			DescribeLock: redis.DescribeLock,
		})
	})
}
