package etcd

import (
	"context"
	"errors"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/driver"
)

// TestErrorsNameContextOnce: the driver's errors say only what went wrong,
// so that atomix names the primitive, its name, the driver, the operation
// and the key exactly once; and the etcd error stays reachable.
func TestErrorsNameContextOnce(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	c := atomix.NewClient(atomix.WithDriver(d))
	t.Cleanup(func() { c.Close(context.Background()) })
	m, err := atomix.GetMap[string, string](ctx, "users", atomix.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Insert(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	_, err = m.Insert(ctx, "k", "w")
	if want := `atomix: map "users" (etcd): insert "k": already exists`; err == nil || err.Error() != want {
		t.Errorf("Insert of a present key: %v, want %s", err, want)
	}
	_, err = m.Get(ctx, "nothing")
	if want := `atomix: map "users" (etcd): get "nothing": not found`; err == nil || err.Error() != want {
		t.Errorf("Get of an absent key: %v, want %s", err, want)
	}

	// A refusal by the server keeps the server's error as the cause.
	dm, _ := d.OpenMap(ctx, driver.ID{Name: "m"})
	_, err = dm.Put(ctx, "big", make([]byte, 1600<<10), 0)
	var etcdErr rpctypes.EtcdError
	if !errors.Is(err, driver.ErrInvalid) || !errors.As(err, &etcdErr) || etcdErr != rpctypes.ErrRequestTooLarge {
		t.Errorf("Put over the server's request limit: %v, want ErrInvalid caused by %v", err, rpctypes.ErrRequestTooLarge)
	}
}

func TestDriverNameAsPing(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	if d.Name() != "etcd" {
		t.Errorf("Name = %q", d.Name())
	}
	var client *clientv3.Client
	if !d.As(&client) || client != d.client {
		t.Error("As(**clientv3.Client) did not set the driver's client")
	}
	var other *int
	if d.As(&other) {
		t.Error("As reported true for a foreign type")
	}
	if err := d.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Ping(ctx); !errors.Is(err, driver.ErrClosed) {
		t.Errorf("Ping after Close: %v, want ErrClosed", err)
	}
}
