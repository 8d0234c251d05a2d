package conformance_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/etcd"
)

// A driver's test package runs the whole suite from one test function,
// with a Harness that says how to reach the backend. This one checks the
// etcd driver against the server at $ETCD_ADDR (host:port). Backend and
// NewDriverAt enable the fault tier, which puts a TCP fault proxy in front
// of that server; what the harness cannot provide (here Crash, which needs
// the driver's internals) is declared as a gap and reported as skipped.
func ExampleRun() {
	// In a _test.go file of the driver's module:
	testConformance := func(t *testing.T) {
		addr := os.Getenv("ETCD_ADDR")
		if addr == "" {
			t.Skip("ETCD_ADDR is not set")
		}
		connect := func(_ context.Context, _ testing.TB, addr string) (driver.Driver, error) {
			return etcd.New(etcd.Config{Endpoints: []string{addr}})
		}
		conformance.Run(t, conformance.Harness{
			Name: "etcd",
			NewDriver: func(ctx context.Context, t testing.TB) (driver.Driver, error) {
				return connect(ctx, t, addr) // a new connection each call
			},
			Backend:     addr,
			NewDriverAt: connect,
			SessionTTL:  2 * time.Second, // the smallest lease TTL etcd grants by default
			Gaps: map[conformance.Feature]string{
				conformance.FeatureSessionExpiry: "no Crash: the harness cannot make a driver vanish",
				conformance.FeaturePermissions:   "no credentials on this server",
			},
		})
	}
	_ = testConformance // as func TestConformance(t *testing.T)
}

// A driver's test package runs the cluster scenario on a multi-node
// backend it starts itself: here a 3-member etcd cluster from package
// testbackend, whose leader the scenario kills during a workload. etcd is
// Durable: a Raft quorum loses nothing it acknowledged with one member
// gone.
func ExampleRunClusterFailover() {
	// In a _test.go file of the driver's module:
	testClusterFailover := func(t *testing.T) {
		testbackend.RequireClusters(t) // ATOMIX_TEST_CLUSTERS=1
		cluster := testbackend.StartEtcdCluster(t)
		conformance.RunClusterFailover(t, conformance.ClusterHarness{
			Name: "etcd-3",
			NewDriver: func(context.Context, testing.TB) (driver.Driver, error) {
				return etcd.New(etcd.Config{Endpoints: cluster.Addrs})
			},
			StopLeader: cluster.StopLeader,
			Durable:    true,
			Recovery:   30 * time.Second,
			SessionTTL: 2 * time.Second,
		})
	}
	_ = testClusterFailover // as func TestClusterFailover(t *testing.T)
}
