package redis_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/conformance"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/redis"
)

// conformanceTTL is the session TTL of the suite's clients: short, so that
// expiry tests are quick, yet three renewals a second leave room for a
// loaded machine.
const conformanceTTL = time.Second

func TestConformance(t *testing.T) {
	addr := testbackend.Redis(t)
	conformance.Run(t, conformance.Harness{
		Name: "redis",
		NewDriver: func(context.Context, testing.TB) (driver.Driver, error) {
			return redis.New(&goredis.UniversalOptions{
				Addrs:                 []string{addr},
				ContextTimeoutEnabled: true,
			}, redis.Options{})
		},
		Backend: addr,
		NewDriverAt: func(_ context.Context, _ testing.TB, at string) (driver.Driver, error) {
			return redis.New(&goredis.UniversalOptions{
				Addrs:                 []string{at},
				ContextTimeoutEnabled: true,
			}, redis.Options{})
		},
		// A redis-server of the scenario's own, with an AOF fsynced on
		// every write; a missing version counter starts from the server's
		// clock, so versions keep increasing across an empty restart.
		StartServer:                 func(t testing.TB) conformance.Server { return testbackend.StartRedisServer(t) },
		VersionsSurviveEmptyRestart: true,
		Crash:                       func(d driver.Driver) { d.(*redis.Driver).Crash() },
		SessionTTL:                  conformanceTTL,
		Gaps: map[conformance.Feature]string{
			conformance.FeaturePermissions: "no ACL on this server: TestConformanceLeastPrivilege runs the tier",
		},
	})
}

// TestConformanceCluster runs the suite on a Redis Cluster whose seed
// addresses ATOMIX_TEST_REDIS_CLUSTER_ADDRS lists (comma-separated), e.g.
// three local nodes made with redis-cli --cluster create.
func TestConformanceCluster(t *testing.T) {
	addrs := os.Getenv("ATOMIX_TEST_REDIS_CLUSTER_ADDRS")
	if addrs == "" {
		t.Skip("set ATOMIX_TEST_REDIS_CLUSTER_ADDRS to run the suite on a Redis Cluster")
	}
	conformance.Run(t, conformance.Harness{
		Name: "redis-cluster",
		NewDriver: func(context.Context, testing.TB) (driver.Driver, error) {
			return redis.New(&goredis.UniversalOptions{
				Addrs:                 strings.Split(addrs, ","),
				IsClusterMode:         true,
				ContextTimeoutEnabled: true,
			}, redis.Options{})
		},
		Crash:      func(d driver.Driver) { d.(*redis.Driver).Crash() },
		SessionTTL: conformanceTTL,
		Gaps: withGaps(clusterGaps, map[conformance.Feature]string{
			conformance.FeatureFenced: fencedOnClusterGap,
		}),
	})
}
