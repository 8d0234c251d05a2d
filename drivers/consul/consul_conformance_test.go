package consul

import (
	"context"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// TestConformance runs the conformance suite on the test agent, every
// driver under one KV prefix of this run's own.
func TestConformance(t *testing.T) {
	addr := testbackend.Consul(t)
	prefix := testPrefix(t)
	conformance.Run(t, conformance.Harness{
		Name: "consul",
		NewDriver: func(ctx context.Context, t testing.TB) (driver.Driver, error) {
			return New(Config{Address: addr, Options: Options{Prefix: prefix}})
		},
		Backend: addr,
		NewDriverAt: func(_ context.Context, _ testing.TB, at string) (driver.Driver, error) {
			return New(Config{Address: at, Options: Options{Prefix: prefix}})
		},
		// A Consul server of the scenario's own (not -dev, so it keeps its
		// Raft log across a restart with data); an empty restart starts its
		// index, and so fencing versions, again near 1.
		StartServer: func(t testing.TB) conformance.Server { return testbackend.StartConsulServer(t) },
		// Stop renewing and drop the connections without destroying the
		// sessions: Consul expires them after their TTL (up to 2×TTL).
		Crash:      func(d driver.Driver) { d.(*Driver).crash() },
		SessionTTL: 10 * time.Second, // Consul's minimum
		// Blocking queries report states, not changes: changes that land
		// between two answers merge, and watchers converge to the latest
		// state (see the package documentation).
		WatchMergesStates: true,
		Gaps: map[conformance.Feature]string{
			conformance.FeaturePermissions: "no ACLs on this agent: TestConformanceLeastPrivilege runs the tier",
		},
	})
}
