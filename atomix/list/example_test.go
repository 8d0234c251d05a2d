package list_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/list"
	_ "github.com/atomix/go-client/drivers/memory" // registers mem://
)

// Indexes are 0-based; a negative index is ErrInvalid and an index past the
// end is ErrNotFound.
func Example() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://list-example")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	stages, err := atomix.GetList[string](ctx, "stages", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range []string{"build", "deploy"} {
		if _, err := stages.Append(ctx, s); err != nil {
			log.Fatal(err)
		}
	}
	if err := stages.Insert(ctx, 1, "test"); err != nil {
		log.Fatal(err)
	}
	old, err := stages.Set(ctx, 2, "release")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("replaced", old)
	for s, err := range stages.Items(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s)
	}
	_, err = stages.Get(ctx, 3)
	fmt.Println(errors.Is(err, atomix.ErrNotFound))
	// Output:
	// replaced deploy
	// build
	// test
	// release
	// true
}

// Each event names the index it changed, so applying the events in order
// to a copy of the list keeps the copy equal to the list.
func ExampleList_Watch() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://list-example-watch")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	queue, err := atomix.GetList[string](ctx, "queue", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	watchCtx, stop := context.WithCancel(ctx)
	defer stop()
	events := make(chan list.Event[string], 8)
	if err := queue.Watch(watchCtx, events); err != nil {
		log.Fatal(err)
	}
	queue.Append(ctx, "b")
	queue.Insert(ctx, 0, "a")
	queue.Remove(ctx, 1)
	for range 3 {
		ev := <-events
		fmt.Println(ev.Type, ev.Index, ev.Value)
	}
	// Output:
	// inserted 0 b
	// inserted 0 a
	// removed 1 b
}
