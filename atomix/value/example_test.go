package value_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/value"
	_ "github.com/atomix/go-client/drivers/memory" // registers mem://
)

// A write with IfVersion applies only if nobody wrote since the read: the
// second writer, holding a stale version, gets ErrConflict.
func ExampleIfVersion() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://value-example")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	leader, err := atomix.GetValue[string](ctx, "leader-addr", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := leader.Set(ctx, "10.0.0.1:80"); err != nil {
		log.Fatal(err)
	}
	_, read, err := leader.Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := leader.Set(ctx, "10.0.0.2:80", value.IfVersion(read)); err != nil {
		log.Fatal(err)
	}
	_, err = leader.Set(ctx, "10.0.0.3:80", value.IfVersion(read))
	fmt.Println(errors.Is(err, atomix.ErrConflict))
	addr, _, err := leader.Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(addr)
	// Output:
	// true
	// 10.0.0.2:80
}

// Watch reports every change after it returns, in commit order; a deletion
// carries the value and version it removed.
func ExampleValue_Watch() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://value-example-watch")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	mode, err := atomix.GetValue[string](ctx, "mode", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	watchCtx, stop := context.WithCancel(ctx)
	defer stop()
	events := make(chan value.Event[string], 8)
	if err := mode.Watch(watchCtx, events); err != nil {
		log.Fatal(err)
	}
	mode.Set(ctx, "active")
	mode.Set(ctx, "draining")
	mode.Delete(ctx)
	for range 3 {
		ev := <-events
		fmt.Println(ev.Type, ev.Value)
	}
	// Output:
	// created active
	// updated draining
	// deleted draining
}

// A fenced Set applies only while the lock is held with the version given:
// a holder whose hold ended cannot overwrite its successor's value.
func ExampleFenced() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://value-fenced-example")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)
	l, err := client.GetLock(ctx, "leader-config")
	if err != nil {
		log.Fatal(err)
	}
	config, err := atomix.GetValue[string](ctx, "config", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	version, err := l.Lock(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := config.Set(ctx, "v1", value.Fenced(l, version)); err != nil {
		log.Fatal(err)
	}
	if _, err := l.Unlock(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = config.Set(ctx, "v2", value.Fenced(l, version))
	fmt.Println(errors.Is(err, atomix.ErrConflict))
	// Output:
	// true
}
