package consul

import (
	"context"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// TestCluster runs the cluster scenarios and the conformance suite on three
// Consul servers and a client agent of its own, the driver talking to the
// client agent as an application talks to its local agent (set
// ATOMIX_TEST_CLUSTERS; make test-clusters runs the suite's Map, Counter and
// Lock parts).
func TestCluster(t *testing.T) {
	testbackend.RequireClusters(t)
	cluster := testbackend.StartConsulCluster(t)
	prefix := testPrefix(t)
	newDriver := func(context.Context, testing.TB) (driver.Driver, error) {
		return New(Config{Address: cluster.Addrs[0], Options: Options{Prefix: prefix}})
	}
	// The suite runs first, on a settled cluster; the failover scenario,
	// which takes a member away, runs last, so that no test of the suite
	// meets the cluster still recovering from it.
	t.Run("Suite", func(t *testing.T) {
		conformance.Run(t, conformance.Harness{
			Name:              "consul-3",
			NewDriver:         newDriver,
			Crash:             func(d driver.Driver) { d.(*Driver).crash() },
			SessionTTL:        10 * time.Second,
			WatchMergesStates: true,
			Gaps: map[conformance.Feature]string{
				conformance.FeatureFaults:       "the cluster scenarios (TestCluster/Failover) take servers away instead",
				conformance.FeatureServerFaults: "the cluster scenarios (TestCluster/Failover) take servers away instead",
				conformance.FeaturePermissions:  "no credentials on this cluster",
			},
		})
	})
	t.Run("Failover", func(t *testing.T) {
		conformance.RunClusterFailover(t, conformance.ClusterHarness{
			Name:       "consul-3",
			NewDriver:  newDriver,
			StopLeader: cluster.StopLeader,
			Durable:    true,
			Recovery:   30 * time.Second,
			SessionTTL: 10 * time.Second,
		})
	})
}
