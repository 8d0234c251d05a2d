package memory_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/memory"
)

// New makes a driver over a store of its own, shared with no other
// connection: for tests and single-process programs. Its options set the
// limits a real backend would have.
func ExampleNew() {
	ctx := context.Background()
	d := memory.New(memory.WithLimits(driver.Limits{MaxKeySize: 64, MaxValueSize: 16}))
	client := atomix.NewClient(atomix.WithDriver(d))
	defer client.Close(ctx) // closes the driver too

	motd, err := atomix.GetValue[string](ctx, "motd", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	_, err = motd.Set(ctx, "a message over sixteen bytes")
	fmt.Println(errors.Is(err, atomix.ErrInvalid))
	// Output: true
}

// Two connections to one store share state, as two processes connected to
// one server do.
func ExampleStore_Connect() {
	ctx := context.Background()
	store := memory.NewStore()
	a, b := store.Connect(), store.Connect()
	defer a.Close(ctx)
	defer b.Close(ctx)

	id := driver.ID{Name: "hits"}
	ca, _ := a.OpenCounter(ctx, id)
	ca.Add(ctx, 3)
	cb, _ := b.OpenCounter(ctx, id)
	n, _ := cb.Get(ctx)
	fmt.Println(n)
	// Output: 3
}

// A crashed client's lock is released once its session expires; a
// ManualClock makes that happen without waiting.
func ExampleDriver_Crash() {
	ctx := context.Background()
	clock := memory.NewManualClock(time.Now())
	store := memory.NewStore(memory.WithClock(clock))
	dying, survivor := store.Connect(), store.Connect()
	defer survivor.Close(ctx)

	session, _ := dying.NewSession(ctx, driver.SessionOptions{TTL: 10 * time.Second})
	lock, _ := dying.OpenLock(ctx, driver.ID{Name: "leader"})
	hold, _ := lock.Acquire(ctx, session, "dying-owner")

	dying.Crash()
	clock.Advance(9 * time.Second)
	observer, _ := survivor.OpenLock(ctx, driver.ID{Name: "leader"})
	_, held, _ := observer.Holder(ctx)
	fmt.Println("held 9s after the crash:", held)

	clock.Advance(time.Second)
	<-hold.Gone
	_, held, _ = observer.Holder(ctx)
	fmt.Println("held 10s after the crash:", held)
	// Output:
	// held 9s after the crash: true
	// held 10s after the crash: false
}

// The mem URL scheme connects to a process-wide store by name.
func Example_url() {
	ctx := context.Background()
	d, err := driver.Open(ctx, "mem://example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close(ctx)
	fmt.Println(d.(*memory.Driver).Store() == memory.SharedStore("example"))
	// Output: true
}
