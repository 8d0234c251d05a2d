package conformance_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance"
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
