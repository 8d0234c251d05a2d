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
	})
}
