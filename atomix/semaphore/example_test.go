package semaphore_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/semaphore"
	_ "github.com/atomix/go-client/drivers/memory" // registers mem://
)

// Three workers share a pool of three permits; a bulk job that needs the
// whole pool waits for its turn and is not overtaken by later small jobs.
func Example() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://semaphore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	open := func() semaphore.Semaphore {
		s, err := client.GetSemaphore(ctx, "encoders", semaphore.WithLimit(3))
		if err != nil {
			log.Fatal(err)
		}
		return s
	}
	worker, bulk := open(), open()

	v1, err := worker.Acquire(ctx) // one permit
	if err != nil {
		log.Fatal(err)
	}
	free, _ := worker.Available(ctx)
	fmt.Println("free while the worker holds one:", free)

	_, ok, err := bulk.TryAcquire(ctx, semaphore.Permits(3))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bulk job got the whole pool at once:", ok)

	if _, err := worker.Release(ctx); err != nil {
		log.Fatal(err)
	}
	v2, err := bulk.Acquire(ctx, semaphore.Permits(3))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("fencing versions increase:", v2 > v1)
	// Output:
	// free while the worker holds one: 2
	// bulk job got the whole pool at once: false
	// fencing versions increase: true
}

// Acquire with more permits than the semaphore has is refused at once.
func ExamplePermits() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://semaphore-permits-example")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)
	s, err := client.GetSemaphore(ctx, "slots", semaphore.WithLimit(2))
	if err != nil {
		log.Fatal(err)
	}
	_, err = s.Acquire(ctx, semaphore.Permits(5))
	fmt.Println(errors.Is(err, atomix.ErrInvalid))
	// Output: true
}
