package atomix_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/election"
	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/lock"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/atomix/value"
	"github.com/atomix/go-client/drivers/memory" // also registers mem://
)

func ExampleOpen() {
	ctx := context.Background()
	// The scheme picks the driver: mem://, etcd://, redis://, consul://.
	// Its package must be imported to register the scheme.
	client, err := atomix.Open(ctx, "mem://example-open", atomix.WithNamespace("orders"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	counter, err := client.GetCounter(ctx, "next-order-id")
	if err != nil {
		log.Fatal(err)
	}
	id, err := counter.Increment(ctx, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("order", id)
	// Output: order 1
}

func ExampleClient_Close() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://example-close")
	if err != nil {
		log.Fatal(err)
	}
	l, err := client.GetLock(ctx, "job")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := l.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	// Close releases the lock, ends the session and closes the driver.
	if err := client.Close(ctx); err != nil {
		log.Fatal(err)
	}
	<-l.Lost()
	_, err = l.Lock(ctx)
	fmt.Println(errors.Is(err, atomix.ErrClosed))
	// Output: true
}

func ExampleGetMap() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://example-map")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	type user struct{ Name string }
	// Keys are strings; values of any other type are stored as JSON.
	users, err := atomix.GetMap[string, user](ctx, "users", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := users.Put(ctx, "u1", user{Name: "Ada"}); err != nil {
		log.Fatal(err)
	}
	// Insert writes only if the key is absent.
	_, err = users.Insert(ctx, "u1", user{Name: "Grace"})
	fmt.Println(errors.Is(err, atomix.ErrAlreadyExists))

	// Optimistic concurrency: update only if nobody wrote since the read.
	e, err := users.Get(ctx, "u1")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := users.Update(ctx, "u1", user{Name: "Ada L."}, _map.IfVersion(e.Version)); err != nil {
		log.Fatal(err)
	}
	_, err = users.Update(ctx, "u1", user{Name: "stale"}, _map.IfVersion(e.Version))
	fmt.Println(errors.Is(err, atomix.ErrConflict))

	for e, err := range users.Entries(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.Key, e.Value.Name)
	}
	// Output:
	// true
	// true
	// u1 Ada L.
}

func ExampleGetMap_watch() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://example-map-watch")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	scores, err := atomix.GetMap[string, int](ctx, "scores", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	events := make(chan _map.Event[string, int])
	watchCtx, stop := context.WithCancel(ctx)
	defer stop()
	// Watch returns once the watch is established: every change after it
	// is delivered, in order.
	if err := scores.Watch(watchCtx, events); err != nil {
		log.Fatal(err)
	}
	if _, err := scores.Put(ctx, "alice", 3); err != nil {
		log.Fatal(err)
	}
	if _, err := scores.Put(ctx, "alice", 5); err != nil {
		log.Fatal(err)
	}
	if _, err := scores.Remove(ctx, "alice"); err != nil {
		log.Fatal(err)
	}
	for range 3 {
		ev := <-events
		fmt.Println(ev.Type, ev.Entry.Key, ev.Entry.Value)
	}
	// Output:
	// inserted alice 3
	// updated alice 5
	// removed alice 5
}

func ExampleGetMap_codecs() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://example-map-codecs")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	// Codec options are checked against the map's types by the getter.
	_, err = atomix.GetMap[string, int](ctx, "m", atomix.WithClient(client),
		_map.WithValueType(generic.String()))
	fmt.Println(errors.Is(err, atomix.ErrInvalid))

	m, err := atomix.GetMap[string, []byte](ctx, "m", atomix.WithClient(client),
		_map.WithKeyType(generic.String()), _map.WithValueType(generic.Bytes()))
	if err != nil {
		log.Fatal(err)
	}
	e, err := m.Put(ctx, "raw", []byte{1, 2, 3})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Value)
	// Output:
	// true
	// [1 2 3]
}

func ExampleClient_GetLock() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://example-lock", atomix.WithSessionTTL(10*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	// Each instance is one owner.
	first, err := client.GetLock(ctx, "resource")
	if err != nil {
		log.Fatal(err)
	}
	second, err := client.GetLock(ctx, "resource")
	if err != nil {
		log.Fatal(err)
	}
	v1, err := first.Lock(ctx)
	if err != nil {
		log.Fatal(err)
	}
	_, ok, err := second.TryLock(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("second got it while first holds it:", ok)

	if _, err := first.Unlock(ctx); err != nil {
		log.Fatal(err)
	}
	v2, err := second.Lock(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// The version is a fencing token: a resource that has seen v2 rejects
	// a late write from the holder of v1.
	fmt.Println("fencing versions increase:", v2 > v1)
	held, err := first.IsLocked(ctx, lock.WithVersion(v2))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("held with v2:", held)
	// Output:
	// second got it while first holds it: false
	// fencing versions increase: true
	// held with v2: true
}

func ExampleClient_GetElection() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://example-election")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	node1, err := client.GetElection(ctx, "leader", primitive.WithSessionID("node-1"))
	if err != nil {
		log.Fatal(err)
	}
	node2, err := client.GetElection(ctx, "leader", primitive.WithSessionID("node-2"))
	if err != nil {
		log.Fatal(err)
	}
	events := make(chan election.Event, 8)
	if err := node2.Watch(ctx, events); err != nil {
		log.Fatal(err)
	}
	if _, err := node1.Enter(ctx); err != nil {
		log.Fatal(err)
	}
	term, err := node2.Enter(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("leader:", term.Leader, "candidates:", term.Candidates)

	// The leader steps down; node-2 takes over in a new term.
	if err := node1.Leave(ctx); err != nil {
		log.Fatal(err)
	}
	for ev := range events {
		if ev.Term.Leader == "node-2" {
			fmt.Println("new leader:", ev.Term.Leader, "newer term:", ev.Term.Term > term.Term)
			break
		}
	}
	// Output:
	// leader: node-1 candidates: [node-1 node-2]
	// new leader: node-2 newer term: true
}

func ExampleGetValue() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://example-value")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	config, err := atomix.GetValue[string](ctx, "config", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	_, _, err = config.Get(ctx)
	fmt.Println(errors.Is(err, atomix.ErrNotFound))

	v1, err := config.Set(ctx, "debug=false")
	if err != nil {
		log.Fatal(err)
	}
	// Compare-and-set on the version.
	if _, err := config.Set(ctx, "debug=true", value.IfVersion(v1)); err != nil {
		log.Fatal(err)
	}
	_, err = config.Set(ctx, "lost update", value.IfVersion(v1))
	fmt.Println(errors.Is(err, atomix.ErrConflict))
	s, _, err := config.Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s)
	// Output:
	// true
	// true
	// debug=true
}

func ExampleGetSet() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://example-set")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	online, err := atomix.GetSet[string](ctx, "online", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	added, _ := online.Add(ctx, "alice")
	again, _ := online.Add(ctx, "alice")
	has, _ := online.Contains(ctx, "alice")
	n, _ := online.Len(ctx)
	fmt.Println(added, again, has, n)
	// Output: true false true 1
}

func ExampleGetList() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://example-list")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	queue, err := atomix.GetList[string](ctx, "queue", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range []string{"b", "c"} {
		if _, err := queue.Append(ctx, s); err != nil {
			log.Fatal(err)
		}
	}
	if err := queue.Insert(ctx, 0, "a"); err != nil {
		log.Fatal(err)
	}
	for item, err := range queue.Items(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(item, " ")
	}
	_, err = queue.Get(ctx, -1)
	fmt.Println(errors.Is(err, atomix.ErrInvalid))
	// Output: a b c true
}

func ExampleGetIndexedMap() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://example-indexedmap")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	steps, err := atomix.GetIndexedMap[string, string](ctx, "steps", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	for _, kv := range [][2]string{{"fetch", "git fetch"}, {"build", "go build"}, {"test", "go test"}} {
		if _, err := steps.Append(ctx, kv[0], kv[1]); err != nil {
			log.Fatal(err)
		}
	}
	first, err := steps.FirstEntry(ctx)
	if err != nil {
		log.Fatal(err)
	}
	next, err := steps.NextEntry(ctx, first.Index)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first.Index, first.Key, "->", next.Index, next.Key)
	// Output: 1 fetch -> 2 build
}

func ExampleGetCounter() {
	ctx := context.Background()
	// The package-level getters use the default client, opened from the
	// ATOMIX_URL environment variable (e.g. ATOMIX_URL=etcd://127.0.0.1:2379),
	// unless WithClient names another.
	client, err := atomix.Open(ctx, "mem://example-counter")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	hits, err := atomix.GetCounter(ctx, "hits", atomix.WithClient(client))
	if err != nil {
		log.Fatal(err)
	}
	n, _ := hits.Set(ctx, 10)
	n, _ = hits.Increment(ctx, 5)
	fmt.Println(n)
	n, _ = hits.Decrement(ctx, 3)
	fmt.Println(n)
	swapped, _ := hits.CompareAndSet(ctx, 12, 100)
	fmt.Println(swapped)
	// Output:
	// 15
	// 12
	// true
}

// ExampleWithLogger logs what an operator needs through log/slog: here, the
// session a lock needs and a hold lost when another client released it by
// version. Nothing is logged for a successful operation.
func ExampleWithLogger() {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		// Drop the times, so that the example's output is stable.
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "held" {
				return slog.Attr{}
			}
			return a
		},
	}))
	store := memory.NewStore()
	client := atomix.NewClient(atomix.WithDriver(store.Connect()), atomix.WithLogger(logger))
	defer client.Close(ctx)
	other := atomix.NewClient(atomix.WithDriver(store.Connect()))
	defer other.Close(ctx)

	l, err := client.GetLock(ctx, "jobs")
	if err != nil {
		panic(err)
	}
	version, err := l.Lock(ctx)
	if err != nil {
		panic(err)
	}
	admin, err := other.GetLock(ctx, "jobs")
	if err != nil {
		panic(err)
	}
	if _, err := admin.Unlock(ctx, lock.IfMatch(version)); err != nil {
		panic(err)
	}
	<-l.Lost() // the loss is logged before Lost closes
	// Output:
	// level=INFO msg="atomix: session started" driver=memory session=memory-session-1 ttl=15s
	// level=WARN msg="atomix: hold lost" driver=memory kind=lock name=jobs version=1 reason=removed
}
