package etcd

import (
	"errors"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// The text of errors (each part named once) is checked on every driver by
// the conformance suite (Errors); these tests check what only this driver
// can: that the etcd error behind a kind stays reachable, and As.

// TestErrorsKeepTheirCause: a refusal by the server keeps the server's
// error as the cause.
func TestErrorsKeepTheirCause(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	m, _ := d.OpenMap(ctx, driver.ID{Name: "m"})
	_, err := m.Put(ctx, "big", make([]byte, 1600<<10), 0)
	var etcdErr rpctypes.EtcdError
	if !errors.Is(err, driver.ErrInvalid) || !errors.As(err, &etcdErr) || etcdErr != rpctypes.ErrRequestTooLarge {
		t.Errorf("Put over the server's request limit: %v, want ErrInvalid caused by %v", err, rpctypes.ErrRequestTooLarge)
	}
}

// TestAs: As gives the driver's own etcd client, and a closed driver's
// Ping is ErrClosed.
func TestAs(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	var client *clientv3.Client
	if !d.As(&client) || client != d.client {
		t.Error("As(**clientv3.Client) did not set the driver's client")
	}
	var other *int
	if d.As(&other) {
		t.Error("As reported true for a foreign type")
	}
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Ping(ctx); !errors.Is(err, driver.ErrClosed) {
		t.Errorf("Ping after Close: %v, want ErrClosed", err)
	}
}
