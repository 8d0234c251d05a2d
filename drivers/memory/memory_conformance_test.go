package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/memory"
)

// conformanceTTL is the session TTL of the suite's clients. Sessions run on
// the real clock, renewed every TTL/3, so the TTL leaves room for a loaded
// test machine while keeping expiry tests short.
const conformanceTTL = time.Second

func TestConformance(t *testing.T) {
	store := memory.NewStore() // one backend for the whole suite
	conformance.Run(t, conformance.Harness{
		Name: "memory",
		NewDriver: func(context.Context, testing.TB) (driver.Driver, error) {
			return store.Connect(), nil
		},
		Crash:      func(d driver.Driver) { d.(*memory.Driver).Crash() },
		SessionTTL: conformanceTTL,
		Gaps: map[conformance.Feature]string{
			conformance.FeatureFaults:       "in-process: no network between the driver and its store to break",
			conformance.FeatureServerFaults: "in-process: no server process to pause or restart",
			conformance.FeaturePermissions:  "in-process: no credentials",
		},
	})
}
