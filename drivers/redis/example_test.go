package redis_test

import (
	"context"
	"fmt"
	"log"
	"net/url"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/semaphore"
	"github.com/atomix/go-client/drivers/redis"
)

// New makes and owns a go-redis client from the options: one address for
// one server, several for a cluster, a MasterName for Sentinel. It does
// not contact the server: the first operation does.
func ExampleNew() {
	ctx := context.Background()
	d, err := redis.New(&goredis.UniversalOptions{
		Addrs:                 []string{"redis.internal:6379"},
		Password:              "secret",
		ContextTimeoutEnabled: true, // context deadlines bound the commands
	}, redis.Options{KeyPrefix: "myapp"})
	if err != nil {
		log.Fatal(err)
	}
	client := atomix.NewClient(atomix.WithDriver(d), atomix.WithNamespace("orders"))
	defer client.Close(ctx) // closes the driver and its go-redis client

	counter, err := client.GetCounter(ctx, "next-order-id")
	if err != nil {
		log.Fatal(err)
	}
	id, err := counter.Increment(ctx, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("order", id)
}

// The same settings as a URL, for atomix.Open or ATOMIX_URL. More
// addresses go in addr parameters; two or more make a cluster client.
func ExampleParseURL() {
	u, err := url.Parse("rediss://:secret@redis-0.internal?addr=redis-1.internal:7000&key-prefix=myapp")
	if err != nil {
		log.Fatal(err)
	}
	clientOpts, opts, err := redis.ParseURL(u)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(clientOpts.Addrs, clientOpts.TLSConfig != nil, opts.KeyPrefix)
	// Output: [redis-0.internal:6379 redis-1.internal:7000] true myapp
}

// A semaphore over Redis: waiters queue on the server and are granted in
// arrival order; each is woken only by its own grant.
func ExampleDriver_OpenSemaphore() {
	ctx := context.Background()
	d, err := redis.New(&goredis.UniversalOptions{
		Addrs:                 []string{"redis.internal:6379"},
		ContextTimeoutEnabled: true,
	}, redis.Options{})
	if err != nil {
		log.Fatal(err)
	}
	client := atomix.NewClient(atomix.WithDriver(d), atomix.WithNamespace("media"))
	defer client.Close(ctx)

	encoders, err := client.GetSemaphore(ctx, "encoders", semaphore.WithLimit(4))
	if err != nil {
		log.Fatal(err)
	}
	version, ok, err := encoders.TryAcquire(ctx, semaphore.Permits(2))
	if err != nil {
		log.Fatal(err)
	}
	if !ok {
		fmt.Println("busy: 2 permits are not free, or others are waiting")
		return
	}
	defer encoders.Release(ctx)
	fmt.Println("holding 2 of 4 permits; fencing token", version)
}
