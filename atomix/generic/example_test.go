package generic_test

import (
	"context"
	"fmt"
	"log"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/set"
	_ "github.com/atomix/go-client/drivers/memory" // registers mem://
)

type point struct{ X, Y int }

// Elements of a set are equal when their encodings are, so the codec
// decides what "the same element" means.
func ExampleJSON() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://generic-example")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	visited, err := atomix.GetSet[point](ctx, "visited", atomix.WithClient(client),
		set.WithElementType(generic.JSON[point]()))
	if err != nil {
		log.Fatal(err)
	}
	first, _ := visited.Add(ctx, point{1, 2})
	again, _ := visited.Add(ctx, point{X: 1, Y: 2})
	fmt.Println(first, again)
	// Output: true false
}
