package _map_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/atomix/go-client/atomix"
	_map "github.com/atomix/go-client/atomix/map"
	_ "github.com/atomix/go-client/drivers/memory" // registers mem://
)

// A read-modify-write that never loses a concurrent update: write with the
// version read, and read again on ErrConflict.
func ExampleIfVersion() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://map-example")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	stock, err := atomix.GetMap[string, int](ctx, "stock", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := stock.Put(ctx, "apples", 10); err != nil {
		log.Fatal(err)
	}
	take := func(n int) error {
		for {
			e, err := stock.Get(ctx, "apples")
			if err != nil {
				return err
			}
			_, err = stock.Update(ctx, "apples", e.Value-n, _map.IfVersion(e.Version))
			if !errors.Is(err, atomix.ErrConflict) {
				return err
			}
		}
	}
	if err := take(3); err != nil {
		log.Fatal(err)
	}
	e, err := stock.Get(ctx, "apples")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Value)
	// Output: 7
}

// An ephemeral entry is removed when its writer's session ends: here the
// writer's client closes; a crash or a partition longer than the session
// TTL does the same.
func ExampleEphemeral() {
	ctx := context.Background()
	owner, err := atomix.Open(ctx, "mem://map-ephemeral-example")
	if err != nil {
		log.Fatal(err)
	}
	reader, err := atomix.Open(ctx, "mem://map-ephemeral-example")
	if err != nil {
		log.Fatal(err)
	}
	defer reader.Close(ctx)

	services, err := atomix.GetMap[string, string](ctx, "services", atomix.WithClient(owner))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := services.Put(ctx, "api", "10.0.0.7:443", _map.Ephemeral()); err != nil {
		log.Fatal(err)
	}
	view, err := atomix.GetMap[string, string](ctx, "services", atomix.WithClient(reader))
	if err != nil {
		log.Fatal(err)
	}
	e, err := view.Get(ctx, "api")
	fmt.Println(e.Value, err)
	if err := owner.Close(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = view.Get(ctx, "api")
	fmt.Println(errors.Is(err, atomix.ErrNotFound))
	// Output:
	// 10.0.0.7:443 <nil>
	// true
}

// A fenced write applies only while the lock is held with the version
// given, checked by the backend in the same step as the write.
func ExampleFenced() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://map-fenced-example")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)
	l, err := client.GetLock(ctx, "shard-7")
	if err != nil {
		log.Fatal(err)
	}
	m, err := atomix.GetMap[string, string](ctx, "shards", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	version, err := l.Lock(ctx)
	if err != nil {
		log.Fatal(err)
	}
	_, err = m.Put(ctx, "7", "owned by me", _map.Fenced(l, version))
	fmt.Println(err)
	if _, err := l.Unlock(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = m.Put(ctx, "7", "late write", _map.Fenced(l, version))
	fmt.Println(errors.Is(err, atomix.ErrConflict))
	// Output:
	// <nil>
	// true
}
