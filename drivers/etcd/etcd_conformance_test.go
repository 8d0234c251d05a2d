package etcd

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbackend.Shutdown()
	os.Exit(code)
}

// conformanceTTL is the smallest session TTL etcd reliably grants with its
// default settings (it raises smaller ones to 1.5 election timeouts, 2 s).
const conformanceTTL = 2 * time.Second

func TestConformance(t *testing.T) {
	endpoints := testbackend.Etcd(t)
	conformance.Run(t, conformance.Harness{
		Name: "etcd",
		NewDriver: func(context.Context, testing.TB) (driver.Driver, error) {
			return New(Config{Endpoints: endpoints})
		},
		Backend: strings.TrimPrefix(strings.TrimPrefix(endpoints[0], "http://"), "https://"),
		NewDriverAt: func(_ context.Context, _ testing.TB, addr string) (driver.Driver, error) {
			return New(Config{Endpoints: []string{addr}})
		},
		// The server fault scenarios pause and restart an etcd of their
		// own; an empty restart starts a new cluster whose revisions, and
		// so fencing versions, start again from 1.
		StartServer: func(t testing.TB) conformance.Server { return testbackend.StartEtcdServer(t) },
		// A crash stops the keep-alives and closes the connection without
		// revoking any lease, so the server must expire the sessions.
		Crash:      func(d driver.Driver) { d.(*Driver).crash() },
		SessionTTL: conformanceTTL,
		Gaps: map[conformance.Feature]string{
			conformance.FeaturePermissions: "no auth on this server: TestConformanceLeastPrivilege runs the tier",
		},
		// clientv3 resumes a broken watch from its last revision; only
		// a compacted revision makes the driver re-read.
		DiscardHistory: discardHistory(Config{Endpoints: endpoints}),
	})
}

// discardHistory returns a Harness.DiscardHistory that compacts the
// cluster, as the user of cfg (who may compact: root), up to a write made
// for the purpose, outside every primitive's keys, so that the last change
// any watch saw is below the compacted revision.
func discardHistory(cfg Config) func(ctx context.Context, t testing.TB) {
	return func(ctx context.Context, t testing.TB) {
		d, err := New(cfg)
		if err != nil {
			t.Fatalf("discard history: %v", err)
		}
		defer d.Close(ctx)
		resp, err := d.client.Put(ctx, "conformance-discard-history", "")
		if err == nil {
			_, err = d.client.Compact(ctx, resp.Header.Revision)
		}
		if err != nil {
			t.Fatalf("discard history: %v", err)
		}
	}
}
