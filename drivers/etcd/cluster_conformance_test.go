package etcd

import (
	"context"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// TestCluster runs the cluster scenarios and the conformance suite on a
// 3-member etcd cluster of its own (set ATOMIX_TEST_CLUSTERS; make
// test-clusters runs the suite's Map, Counter and Lock parts).
func TestCluster(t *testing.T) {
	testbackend.RequireClusters(t)
	cluster := testbackend.StartEtcdCluster(t)
	newDriver := func(context.Context, testing.TB) (driver.Driver, error) {
		return New(Config{Endpoints: cluster.Addrs})
	}
	// The suite runs first, on a settled cluster; the failover scenario,
	// which takes a member away, runs last, so that no test of the suite
	// meets the cluster still recovering from it.
	t.Run("Suite", func(t *testing.T) {
		conformance.Run(t, conformance.Harness{
			Name:       "etcd-3",
			NewDriver:  newDriver,
			Crash:      func(d driver.Driver) { d.(*Driver).crash() },
			SessionTTL: conformanceTTL,
			Gaps: map[conformance.Feature]string{
				conformance.FeatureFaults:       "the cluster scenarios (TestCluster/Failover) take members away instead",
				conformance.FeatureServerFaults: "the cluster scenarios (TestCluster/Failover) take members away instead",
				conformance.FeaturePermissions:  "no credentials on this cluster",
			},
		})
	})
	t.Run("Failover", func(t *testing.T) {
		conformance.RunClusterFailover(t, conformance.ClusterHarness{
			Name:       "etcd-3",
			NewDriver:  newDriver,
			StopLeader: cluster.StopLeader,
			Durable:    true,
			Recovery:   30 * time.Second,
			SessionTTL: conformanceTTL,
		})
	})
}
