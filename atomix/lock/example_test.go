package lock_test

import (
	"context"
	"fmt"
	"log"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
	_ "github.com/atomix/go-client/drivers/memory" // registers mem://
)

// A holder passes its fencing version to the resource it protects, and
// watches Lost to stop when its hold ends without its Unlock.
func Example() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://lock-example")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	l, err := client.GetLock(ctx, "reports")
	if err != nil {
		log.Fatal(err)
	}
	version, err := l.Lock(ctx)
	if err != nil {
		log.Fatal(err)
	}
	lost := l.Lost()

	// An operator breaks the lock of exactly this hold (say it hung).
	admin, err := client.GetLock(ctx, "reports")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := admin.Unlock(ctx, lock.IfMatch(version)); err != nil {
		log.Fatal(err)
	}

	<-lost // the holder learns it without polling
	held, err := l.IsLocked(ctx, lock.WithVersion(version))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("still held with my version:", held)
	// Output: still held with my version: false
}

func ExampleLock_TryLock() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://lock-example-try")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	a, _ := client.GetLock(ctx, "cron")
	b, _ := client.GetLock(ctx, "cron")
	_, gotA, err := a.TryLock(ctx)
	if err != nil {
		log.Fatal(err)
	}
	_, gotB, err := b.TryLock(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(gotA, gotB)
	// Output: true false
}
