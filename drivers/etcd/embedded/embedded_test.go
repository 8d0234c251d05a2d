package embedded_test

import (
	"context"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/etcd"
	"github.com/atomix/go-client/drivers/etcd/embedded"
)

func TestStartServeRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	s, err := embedded.Start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := etcd.New(etcd.Config{Endpoints: s.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := d.OpenCounter(ctx, driver.ID{Name: "c"})
	if got, err := c.Add(ctx, 2); err != nil || got != 2 {
		t.Fatalf("Add = %d, %v", got, err)
	}
	d.Close(ctx)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The data survives a restart on the same directory.
	s, err = embedded.Start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err = etcd.New(etcd.Config{Endpoints: s.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	c, _ = d.OpenCounter(ctx, driver.ID{Name: "c"})
	if got, err := c.Get(ctx); err != nil || got != 2 {
		t.Errorf("Get after a restart = %d, %v; want 2", got, err)
	}
}
