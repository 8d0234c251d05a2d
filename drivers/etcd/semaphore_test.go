package etcd

import (
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// TestSemaphoreWaitSurvivesCompaction: a waiter whose watch of the queue
// starts at a revision that was compacted meanwhile reads the queue again
// (one request), watches on from there, and is granted when the holder
// releases.
func TestSemaphoreWaitSurvivesCompaction(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	requests := countRequests(d)
	s := newTestSession(t, d, 10*time.Second)
	o, err := d.OpenSemaphore(ctx, driver.ID{Name: "sem"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	sem := o.(*etcdSemaphore)
	h, err := sem.Acquire(ctx, s, "holder", 2)
	if err != nil {
		t.Fatal(err)
	}
	a, err := sem.begin(s, "waiter", 1)
	if err != nil {
		t.Fatal(err)
	}
	ahead, err := sem.enqueue(ctx, a)
	if err != nil || len(ahead) != 1 {
		t.Fatalf("enqueue = %d keys ahead, %v; want the holder's", len(ahead), err)
	}
	defer a.remove()

	// Move the store past the waiter's revision and compact it away.
	raw := rawClient(t)
	var rev int64
	for range 3 {
		resp, err := raw.Put(ctx, testPrefix(t)+"filler", "x")
		if err != nil {
			t.Fatal(err)
		}
		rev = resp.Header.Revision
	}
	if _, err := raw.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}

	before := requests.requests()
	done := make(chan error, 1)
	go func() { done <- sem.waitTurn(ctx, a, 1, ahead) }()
	deadline := time.Now().Add(10 * time.Second)
	for requests.requests() == before {
		if time.Now().After(deadline) {
			t.Fatal("the waiter never read the queue again after its watch was compacted away")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("waitTurn returned %v while every permit is held", err)
	case <-time.After(300 * time.Millisecond):
	}
	if ok, err := sem.Release(ctx, "holder", h.Version); err != nil || !ok {
		t.Fatalf("Release = %v, %v", ok, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("waitTurn after the holder released: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter was not granted after the holder released")
	}
	if n, err := sem.Available(ctx); err != nil || n != 1 {
		t.Fatalf("Available = %d, %v; want 1 (the waiter holds one of two)", n, err)
	}
}

// TestSemaphoreTryAcquireLeavesNothing: a TryAcquire that finds no room
// removes its key, so the queue holds only the holder's.
func TestSemaphoreTryAcquireLeavesNothing(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	s := newTestSession(t, d, 10*time.Second)
	o, err := d.OpenSemaphore(ctx, driver.ID{Name: "sem"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	sem := o.(*etcdSemaphore)
	if _, err := sem.Acquire(ctx, s, "holder", 1); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := sem.TryAcquire(ctx, s, "other", 1); err != nil || ok {
		t.Fatalf("TryAcquire of a full semaphore = %v, %v", ok, err)
	}
	resp, err := d.client.Get(ctx, sem.l.prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Key) != sem.l.prefix+"holder" {
		t.Fatalf("queue after a failed TryAcquire: %d keys, want the holder's alone", len(resp.Kvs))
	}
}
