package redis_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/drivers/redis"
)

// TestAtomixHoldsKeepNoGoroutine: a lock held through the portable layer
// on Redis keeps no goroutine while it is held, neither the driver's nor
// the portable layer's (before: two per hold, started by every Lock and
// woken by every Unlock), since the driver notifies a hold's end
// (driver.Hold.Notify).
func TestAtomixHoldsKeepNoGoroutine(t *testing.T) {
	ctx := t.Context()
	d, err := redis.New(&goredis.UniversalOptions{Addrs: []string{testbackend.Redis(t)}, ContextTimeoutEnabled: true}, redis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := atomix.NewClient(atomix.WithDriver(d), atomix.WithNamespace("holds-"+t.Name()))
	defer c.Close(context.Background())
	const n = 20
	locks := make([]lock.Lock, n+1)
	for i := range locks {
		if locks[i], err = c.GetLock(ctx, "l"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	// The first hold starts the session and its goroutines.
	if _, err := locks[0].Lock(ctx); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	for _, l := range locks[1:] {
		if _, err := l.Lock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if added := runtime.NumGoroutine() - before; added >= n/4 {
		t.Fatalf("%d locks held added %d goroutines, want none", n, added)
	}
	for _, l := range locks {
		if ok, err := l.Unlock(ctx); !ok || err != nil {
			t.Fatalf("Unlock = %v, %v; want true, nil", ok, err)
		}
		select {
		case <-l.Lost():
		default:
			t.Fatal("Lost is open after Unlock")
		}
	}
}
