package indexedmap_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/indexedmap"
	_ "github.com/atomix/go-client/drivers/memory" // registers mem://
)

// An entry keeps the index Append gave it through every Update, and
// indexes are never reused: a removed key appended again goes to the end.
func Example() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://indexedmap-example")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	queue, err := atomix.GetIndexedMap[string, int](ctx, "retries", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if _, err := queue.Append(ctx, k, 0); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := queue.Update(ctx, "a", 1); err != nil {
		log.Fatal(err)
	}
	if _, err := queue.Remove(ctx, "a"); err != nil {
		log.Fatal(err)
	}
	if _, err := queue.Append(ctx, "a", 2); err != nil {
		log.Fatal(err)
	}
	for e, err := range queue.Entries(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.Index, e.Key, e.Value)
	}
	// Output:
	// 2 b 0
	// 3 c 0
	// 4 a 2
}

// IfVersion makes Update, Remove and RemoveIndex conditional on the
// version read: a stale version is ErrConflict.
func ExampleIfVersion() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://indexedmap-example-ifversion")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	tasks, err := atomix.GetIndexedMap[string, string](ctx, "tasks", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	read, err := tasks.Append(ctx, "t1", "pending")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tasks.Update(ctx, "t1", "running", indexedmap.IfVersion(read.Version)); err != nil {
		log.Fatal(err)
	}
	_, err = tasks.RemoveIndex(ctx, read.Index, indexedmap.IfVersion(read.Version))
	fmt.Println(errors.Is(err, atomix.ErrConflict))
	e, err := tasks.GetIndex(ctx, read.Index)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Key, e.Value)
	// Output:
	// true
	// t1 running
}
