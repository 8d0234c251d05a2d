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
