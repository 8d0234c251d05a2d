package consul

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
)

// countingTransport counts the requests whose path starts with /v1/kv or
// /v1/txn, the lock's own (not the session renewals).
type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int64
	mu   sync.Mutex
	log  []string
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if p := r.URL.Path; (strings.HasPrefix(p, "/v1/kv/") || p == "/v1/txn") && r.URL.Query().Get("index") == "" {
		c.n.Add(1)
		c.mu.Lock()
		c.log = append(c.log, r.Method+" "+r.URL.String())
		c.mu.Unlock()
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
