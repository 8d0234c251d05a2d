package consul

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// TestErrorsCarryTheCause checks that an error names neither the driver nor
// the operation, and that the backend's own error is reachable.
func TestErrorsCarryTheCause(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := New(Config{Address: "127.0.0.1:1"}) // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	m, _ := d.OpenMap(ctx, testID("m"))
	_, err = m.Get(ctx, "k")
	var op *net.OpError
	if !errors.Is(err, driver.ErrUnavailable) || !errors.As(err, &op) {
		t.Fatalf("Get from an unreachable agent: %v, want ErrUnavailable caused by a *net.OpError", err)
	}
	if err := d.Ping(ctx); !errors.Is(err, driver.ErrUnavailable) {
		t.Fatalf("Ping of an unreachable agent: %v", err)
	}
	// The message is the kind, then the network error: no driver,
	// operation, URL or key.
	if want := driver.ErrUnavailable.Error() + ": " + op.Error(); err.Error() != want {
		t.Errorf("Get error %q, want %q", err, want)
	}
}

// TestAs checks that As gives the driver's own Consul client, and that a
// closed driver's Ping is ErrClosed.
func TestAs(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	var c *api.Client
	if !d.As(&c) || c != d.client {
		t.Fatal("As(*api.Client) did not set the driver's client")
	}
	var wrong *http.Client
	if d.As(&wrong) {
		t.Fatal("As(*http.Client) reported true")
	}
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Ping(ctx); !errors.Is(err, driver.ErrClosed) {
		t.Fatalf("Ping after Close: %v", err)
	}
}
