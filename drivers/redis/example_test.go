package redis_test

import (
	"context"
	"fmt"
	"log"
	"net/url"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/atomix"
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
