package counter_test

import (
	"context"
	"fmt"
	"log"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/counter"
	_ "github.com/atomix/go-client/drivers/memory" // registers mem://
)

// Two clients of the same backend share one counter by name, as two
// processes connected to one cluster do.
func Example() {
	ctx := context.Background()
	a, err := atomix.Open(ctx, "mem://counter-example")
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close(ctx)
	b, err := atomix.Open(ctx, "mem://counter-example")
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close(ctx)

	ca, err := a.GetCounter(ctx, "visits")
	if err != nil {
		log.Fatal(err)
	}
	cb, err := b.GetCounter(ctx, "visits")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := ca.Increment(ctx, 2); err != nil {
		log.Fatal(err)
	}
	n, err := cb.Increment(ctx, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n)
	// Output: 3
}

// CompareAndSet builds any atomic read-modify-write: read, compute, and
// retry when another client wrote in between. Here: double the counter, but
// never past a cap.
func ExampleCounter_CompareAndSet() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://counter-example-cas")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	c, err := client.GetCounter(ctx, "backoff-ms")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Set(ctx, 300); err != nil {
		log.Fatal(err)
	}
	double := func(c counter.Counter) (int64, error) {
		for {
			cur, err := c.Get(ctx)
			if err != nil {
				return 0, err
			}
			next := min(cur*2, 1000)
			ok, err := c.CompareAndSet(ctx, cur, next)
			if err != nil || ok {
				return next, err
			}
		}
	}
	for range 3 {
		n, err := double(c)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(n)
	}
	// Output:
	// 600
	// 1000
	// 1000
}
