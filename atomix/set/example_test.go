package set_test

import (
	"context"
	"fmt"
	"log"
	"slices"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/set"
	_ "github.com/atomix/go-client/drivers/memory" // registers mem://
)

// Add and Remove report whether they changed the set, so "first one to
// claim it" needs no separate check.
func Example() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://set-example")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	claimed, err := atomix.GetSet[string](ctx, "claimed-jobs", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	for _, job := range []string{"job-2", "job-1", "job-2"} {
		added, err := claimed.Add(ctx, job)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(job, "claimed now:", added)
	}
	var all []string
	for job, err := range claimed.Elements(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		all = append(all, job)
	}
	slices.Sort(all) // Elements has no order
	fmt.Println(all)
	// Output:
	// job-2 claimed now: true
	// job-1 claimed now: true
	// job-2 claimed now: false
	// [job-1 job-2]
}

// Watch reports every change after it returns, in commit order; an Add of
// an element already present changes nothing and sends nothing.
func ExampleSet_Watch() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://set-example-watch")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	online, err := atomix.GetSet[string](ctx, "online", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	watchCtx, stop := context.WithCancel(ctx)
	defer stop()
	events := make(chan set.Event[string], 8)
	if err := online.Watch(watchCtx, events); err != nil {
		log.Fatal(err)
	}
	online.Add(ctx, "alice")
	online.Add(ctx, "alice")
	online.Remove(ctx, "alice")
	for range 2 {
		ev := <-events
		fmt.Println(ev.Type, ev.Element)
	}
	// Output:
	// added alice
	// removed alice
}

// An ephemeral element is removed when its writer's session ends, here
// when the writer's client closes.
func ExampleEphemeral() {
	ctx := context.Background()
	worker, err := atomix.Open(ctx, "mem://set-ephemeral-example")
	if err != nil {
		log.Fatal(err)
	}
	live, err := atomix.GetSet[string](ctx, "live-workers", atomix.WithClient(worker))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := live.Add(ctx, "worker-1", set.Ephemeral()); err != nil {
		log.Fatal(err)
	}
	if err := worker.Close(ctx); err != nil {
		log.Fatal(err)
	}

	observer, err := atomix.Open(ctx, "mem://set-ephemeral-example")
	if err != nil {
		log.Fatal(err)
	}
	defer observer.Close(ctx)
	view, err := atomix.GetSet[string](ctx, "live-workers", atomix.WithClient(observer))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(view.Contains(ctx, "worker-1"))
	// Output:
	// false <nil>
}
