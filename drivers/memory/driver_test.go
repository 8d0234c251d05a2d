package memory

import (
	"context"
	"testing"

	"github.com/atomix/go-client/driver"
)

// TestAsAndPing checks that As gives the driver's store and that Ping
// honours its context and a closed driver (Name, Ping and a second Close
// are checked by the conformance suite's DriverContract).
func TestAsAndPing(t *testing.T) {
	ctx := context.Background()
	s, _, connect := newTestStore(t)
	d := connect()
	var got *Store
	if !d.As(&got) || got != s {
		t.Fatal("As(*Store) did not give the driver's store")
	}
	var other *Driver
	if d.As(&other) || d.As(nil) {
		t.Fatal("As accepted a target that is not a **Store")
	}
	must(t, "ping", d.Ping(ctx))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	wantErr(t, "ping with an ended context", d.Ping(cctx), context.Canceled)
	must(t, "close", d.Close(ctx))
	wantErr(t, "ping after close", d.Ping(ctx), driver.ErrClosed)
}
