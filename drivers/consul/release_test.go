package consul

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
)

// countingTransport counts the requests whose path starts with /v1/kv or
// /v1/txn, the lock's own (not the session renewals): the blocking queries
// (with an index) in blocking, the others in n and log.
type countingTransport struct {
	base     http.RoundTripper
	n        atomic.Int64
	blocking atomic.Int64
	mu       sync.Mutex
	log      []string
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if p := r.URL.Path; strings.HasPrefix(p, "/v1/kv/") || p == "/v1/txn" {
		if r.URL.Query().Get("index") != "" {
			c.blocking.Add(1)
		} else {
			c.n.Add(1)
			c.mu.Lock()
			c.log = append(c.log, r.Method+" "+r.URL.String())
			c.mu.Unlock()
		}
	}
	return c.base.RoundTrip(r)
}

// TestReleaseIsOneRequest checks that releasing a hold the instance
// acquired is one request once its follower has answered: with nobody
// waiting, and when handing over to a waiter. It used to read the lock's
// keys first (two requests).
func TestReleaseIsOneRequest(t *testing.T) {
	ctx := testContext(t)
	ct := &countingTransport{base: newTransport()}
	prefix := testPrefix(t)
	d, err := New(Config{Address: testbackend.Consul(t), HTTPClient: &http.Client{Transport: ct}, Options: Options{Prefix: prefix}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(ctx) })
	other := testDriverAt(t, testbackend.Consul(t), prefix)
	l, _ := d.OpenLock(ctx, testID("l"))
	s := testSession(t, d)
	known := func(v uint64) bool {
		cl := l.(*consulLock)
		cl.mu.Lock()
		defer cl.mu.Unlock()
		_, ok := cl.held[v]
		return ok
	}
	release := func(v uint64) {
		t.Helper()
		before := ct.n.Load()
		ct.mu.Lock()
		ct.log = nil
		ct.mu.Unlock()
		ok, err := l.Release(ctx, "me", v)
		if err != nil || !ok {
			t.Fatalf("Release = %v, %v", ok, err)
		}
		if n := ct.n.Load() - before; n != 1 {
			t.Errorf("Release sent %d requests, want 1: %v", n, ct.log)
		}
	}

	// Nobody waits.
	h, ok, err := l.TryAcquire(ctx, s, "me")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	waitUntil(t, 5*time.Second, "the follower answers", func() bool { return known(h.Version) })
	release(h.Version)

	// A waiter on another client gets the lock from the release.
	h, ok, err = l.TryAcquire(ctx, s, "me")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	ol, _ := other.OpenLock(ctx, testID("l"))
	got := make(chan error, 1)
	go func() {
		_, err := ol.Acquire(ctx, testSession(t, other), "them")
		got <- err
	}()
	waitUntil(t, 5*time.Second, "the follower sees the waiter", func() bool {
		cl := l.(*consulLock)
		cl.mu.Lock()
		defer cl.mu.Unlock()
		return cl.held[h.Version].first != nil
	})
	release(h.Version)
	if err := recvWithin(t, got, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestWaiterPlacedByItsRegistration checks that a waiter learns its place
// in line from the transaction that registers it, and asks nothing more
// before its first blocking query. It used to list the lock's keys once
// more: one request in seven of a contended acquisition.
func TestWaiterPlacedByItsRegistration(t *testing.T) {
	ctx := testContext(t)
	prefix := testPrefix(t)
	holder := testDriverAt(t, testbackend.Consul(t), prefix)
	hl, _ := holder.OpenLock(ctx, testID("l"))
	h, err := hl.Acquire(ctx, testSession(t, holder), "holder")
	if err != nil {
		t.Fatal(err)
	}
	ct := &countingTransport{base: newTransport()}
	d, err := New(Config{Address: testbackend.Consul(t), HTTPClient: &http.Client{Transport: ct}, Options: Options{Prefix: prefix}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(ctx) })
	l, _ := d.OpenLock(ctx, testID("l"))
	s := testSession(t, d)
	got := make(chan error, 1)
	go func() {
		_, err := l.Acquire(ctx, s, "waiter")
		got <- err
	}()
	waitUntil(t, 5*time.Second, "the waiter's first blocking query", func() bool { return ct.blocking.Load() > 0 })
	ct.mu.Lock()
	sent := slices.Clone(ct.log)
	ct.mu.Unlock()
	for _, r := range sent {
		if strings.Contains(r, "recurse") {
			t.Errorf("the waiter listed the lock's keys before its first blocking query: %v", sent)
		}
	}
	if _, err := hl.Release(ctx, "holder", h.Version); err != nil {
		t.Fatal(err)
	}
	if err := recvWithin(t, got, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}
