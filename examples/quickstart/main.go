// Command quickstart shows the atomix primitives at work between two
// clients: they contend for a lock, an election fails over from one to the
// other, a counter counts, and one client watches a map that the other
// writes.
//
// With no flags it starts an embedded etcd server in a temporary directory,
// so it needs nothing installed. -url runs it on any backend instead:
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -url mem://quickstart
//	go run ./examples/quickstart -url redis://127.0.0.1:6379
//	go run ./examples/quickstart -url consul://127.0.0.1:8500
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/election"
	_map "github.com/atomix/go-client/atomix/map"
	_ "github.com/atomix/go-client/drivers/consul"
	_ "github.com/atomix/go-client/drivers/etcd"
	"github.com/atomix/go-client/drivers/etcd/embedded"
	_ "github.com/atomix/go-client/drivers/memory"
	_ "github.com/atomix/go-client/drivers/redis"
)

func main() {
	url := flag.String("url", "", "backend URL (etcd://, redis://, consul://, mem://); default: an embedded etcd server")
	flag.Parse()
	log.SetFlags(0)
	if err := run(*url); err != nil {
		log.Fatalf("quickstart: %v", err)
	}
}

func run(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if url == "" {
		dir, err := os.MkdirTemp("", "atomix-quickstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		server, err := embedded.Start(ctx, dir)
		if err != nil {
			return fmt.Errorf("start embedded etcd: %w", err)
		}
		defer server.Close()
		endpoint := strings.TrimPrefix(server.Endpoints()[0], "http://")
		url = "etcd://" + endpoint
		fmt.Printf("started an embedded etcd server at %s\n", endpoint)
	}

	// Two clients, as two processes would have: same backend, same
	// namespace, so the same names mean the same state.
	ns := atomix.WithNamespace(fmt.Sprintf("quickstart-%d", time.Now().UnixNano()))
	alice, err := atomix.Open(ctx, url, ns)
	if err != nil {
		return err
	}
	defer alice.Close(context.Background())
	bob, err := atomix.Open(ctx, url, ns)
	if err != nil {
		return err
	}
	defer bob.Close(context.Background())

	if err := lockDemo(ctx, alice, bob); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if err := electionDemo(ctx, alice, bob); err != nil {
		return fmt.Errorf("election: %w", err)
	}
	if err := counterDemo(ctx, alice, bob); err != nil {
		return fmt.Errorf("counter: %w", err)
	}
	if err := mapDemo(ctx, alice, bob); err != nil {
		return fmt.Errorf("map: %w", err)
	}
	return nil
}

// lockDemo: alice holds the lock; bob's Lock blocks until alice unlocks,
// and gets a greater fencing version.
func lockDemo(ctx context.Context, alice, bob *atomix.Client) error {
	aliceLock, err := alice.GetLock(ctx, "my-lock")
	if err != nil {
		return err
	}
	bobLock, err := bob.GetLock(ctx, "my-lock")
	if err != nil {
		return err
	}
	v1, err := aliceLock.Lock(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("lock:     alice holds the lock (fencing version %d)\n", v1)

	got := make(chan uint64, 1)
	errc := make(chan error, 1)
	go func() {
		v, err := bobLock.Lock(ctx)
		if err != nil {
			errc <- err
			return
		}
		got <- v
	}()
	time.Sleep(200 * time.Millisecond)
	fmt.Println("lock:     bob is waiting...")
	if _, err := aliceLock.Unlock(ctx); err != nil {
		return err
	}
	fmt.Println("lock:     alice unlocks")
	select {
	case v2 := <-got:
		fmt.Printf("lock:     bob holds the lock (fencing version %d > %d)\n", v2, v1)
	case err := <-errc:
		return err
	}
	_, err = bobLock.Unlock(ctx)
	return err
}

// electionDemo: alice enters first and leads; when her instance closes,
// bob takes over in a new term.
func electionDemo(ctx context.Context, alice, bob *atomix.Client) error {
	aliceElection, err := alice.GetElection(ctx, "my-election")
	if err != nil {
		return err
	}
	bobElection, err := bob.GetElection(ctx, "my-election")
	if err != nil {
		return err
	}
	events := make(chan election.Event, 16)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if err := bobElection.Watch(watchCtx, events); err != nil {
		return err
	}

	term, err := aliceElection.Enter(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("election: term %d, leader %s\n", term.Term, name(term.Leader, aliceElection, bobElection))
	if term, err = bobElection.Enter(ctx); err != nil {
		return err
	}
	fmt.Printf("election: bob enters; candidates %d, leader still %s\n", len(term.Candidates), name(term.Leader, aliceElection, bobElection))

	// Closing alice's instance withdraws her candidacy: bob takes over.
	if err := aliceElection.Close(ctx); err != nil {
		return err
	}
	for {
		select {
		case ev := <-events:
			if ev.Term.Leader == bobElection.ID() {
				fmt.Printf("election: alice leaves; term %d, leader %s\n", ev.Term.Term, name(ev.Term.Leader, aliceElection, bobElection))
				return bobElection.Leave(ctx)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func name(id string, alice, bob election.Election) string {
	switch id {
	case alice.ID():
		return "alice"
	case bob.ID():
		return "bob"
	}
	return id
}

// counterDemo: both clients increment one counter.
func counterDemo(ctx context.Context, alice, bob *atomix.Client) error {
	ac, err := alice.GetCounter(ctx, "my-counter")
	if err != nil {
		return err
	}
	bc, err := bob.GetCounter(ctx, "my-counter")
	if err != nil {
		return err
	}
	for i := 0; i < 3; i++ {
		if _, err := ac.Increment(ctx, 1); err != nil {
			return err
		}
		if _, err := bc.Increment(ctx, 10); err != nil {
			return err
		}
	}
	n, err := ac.Get(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("counter:  alice +1 and bob +10, three times each: %d\n", n)
	return nil
}

// mapDemo: bob watches a map that alice writes.
func mapDemo(ctx context.Context, alice, bob *atomix.Client) error {
	am, err := atomix.GetMap[string, string](ctx, "my-map", atomix.WithClient(alice))
	if err != nil {
		return err
	}
	bm, err := atomix.GetMap[string, string](ctx, "my-map", atomix.WithClient(bob))
	if err != nil {
		return err
	}
	events := make(chan _map.Event[string, string], 16)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if err := bm.Watch(watchCtx, events); err != nil {
		return err
	}

	e, err := am.Put(ctx, "greeting", "hello")
	if err != nil {
		return err
	}
	if _, err := am.Update(ctx, "greeting", "hello, world", _map.IfVersion(e.Version)); err != nil {
		return err
	}
	if _, err := am.Remove(ctx, "greeting"); err != nil {
		return err
	}
	// Backends that report states rather than events (Consul) may merge
	// changes that follow each other closely; the removal always arrives.
	for {
		select {
		case ev := <-events:
			fmt.Printf("map:      bob sees %-8s %s=%q (version %d)\n", ev.Type, ev.Entry.Key, ev.Entry.Value, ev.Entry.Version)
			if ev.Type == _map.EventRemoved {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
