package redis

import (
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// newProxiedDriver returns a driver whose one connection goes through a
// faultyProxy, with a short read timeout.
func newProxiedDriver(t *testing.T) (*Driver, *faultyProxy, *Driver) {
	t.Helper()
	direct := newTestDriver(t)
	p := newFaultyProxy(t, testbackend.Redis(t))
	d, err := New(&goredis.UniversalOptions{
		Addrs:       []string{p.addr},
		PoolSize:    1,
		ReadTimeout: 300 * time.Millisecond,
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close(context.Background()) })
	return d, p, direct
}

// TestLostReplyIsAmbiguous checks that a write whose reply is lost is
// reported as ErrAmbiguous and was sent exactly once (go-redis would retry
// it three times by default), while a read that fails the same way is a
// timeout.
func TestLostReplyIsAmbiguous(t *testing.T) {
	ctx := testContext(t)
	d, p, direct := newProxiedDriver(t)
	id := testID(t, "c")
	c, err := d.OpenCounter(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(ctx, 1); err != nil { // warm up the connection
		t.Fatalf("Add: %v", err)
	}
	if _, err := c.CompareAndSet(ctx, 100, 100); err != nil { // and the script cache
		t.Fatalf("CompareAndSet: %v", err)
	}

	// Each write whose reply is lost is checked against the server only
	// once the server has answered it (the proxy threw the answer away):
	// until then it may still be on its way.
	lost := p.lostReplies()
	p.mute.Store(true)
	_, err = c.Add(ctx, 10)
	if !errors.Is(err, driver.ErrAmbiguous) {
		t.Fatalf("Add with its reply lost: got %v, want ErrAmbiguous", err)
	}
	p.waitLost(t, lost, 10*time.Second)
	// The connection that timed out is dropped; warm up a new one.
	p.mute.Store(false)
	if v, err := c.Get(ctx); err != nil || v != 11 {
		t.Fatalf("Get after a lost Add = %d, %v; want 11 (sent exactly once)", v, err)
	}
	lost = p.lostReplies()
	p.mute.Store(true)
	_, err = c.CompareAndSet(ctx, 11, 20)
	if !errors.Is(err, driver.ErrAmbiguous) {
		t.Fatalf("CompareAndSet with its reply lost: got %v, want ErrAmbiguous", err)
	}
	p.waitLost(t, lost, 10*time.Second)
	p.mute.Store(false)
	if _, err := c.Get(ctx); err != nil {
		t.Fatal(err)
	}
	p.mute.Store(true)
	_, err = c.Get(ctx)
	if !errors.Is(err, driver.ErrTimeout) {
		t.Fatalf("Get with its reply lost: got %v, want ErrTimeout", err)
	}
	p.mute.Store(false)

	dc, err := direct.OpenCounter(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := dc.Get(ctx); err != nil || v != 20 {
		t.Fatalf("counter after the lost replies = %d, %v; want 20 (1, +10 once, then set to 20 once)", v, err)
	}
}

// TestResetAfterWriteIsAmbiguous checks that a write whose connection is
// reset after the server applied it is reported as ErrAmbiguous and is not
// sent again: go-redis retries commands after such errors by default.
func TestResetAfterWriteIsAmbiguous(t *testing.T) {
	ctx := testContext(t)
	d, p, _ := newProxiedDriver(t)
	c, err := d.OpenCounter(ctx, testID(t, "c"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompareAndSet(ctx, 100, 100); err != nil { // load the script
		t.Fatalf("CompareAndSet: %v", err)
	}
	p.reset.Store(true)
	if _, err := c.Add(ctx, 10); !errors.Is(err, driver.ErrAmbiguous) {
		t.Fatalf("Add reset after it was applied: got %v, want ErrAmbiguous", err)
	}
	if _, err := c.Get(ctx); err != nil { // a new connection, the old one was reset
		t.Fatal(err)
	}
	p.reset.Store(true)
	if _, err := c.CompareAndSet(ctx, 10, 20); !errors.Is(err, driver.ErrAmbiguous) {
		t.Fatalf("CompareAndSet reset after it was applied: got %v, want ErrAmbiguous", err)
	}
	m, err := d.OpenMap(ctx, testID(t, "m"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Put(ctx, "k", []byte("v"), 0); err != nil { // also makes a new connection
		t.Fatal(err)
	}
	p.reset.Store(true)
	if _, err := m.Put(ctx, "k", []byte("w"), 0); !errors.Is(err, driver.ErrAmbiguous) {
		t.Fatalf("Put reset after it was applied: got %v, want ErrAmbiguous", err)
	}
	if v, err := c.Get(ctx); err != nil || v != 20 { // a new connection
		t.Fatalf("counter = %d, %v; want 20: Add and CompareAndSet applied exactly once", v, err)
	}
	if e, err := m.Get(ctx, "k"); err != nil || string(e.Value) != "w" || e.Version != 2 {
		t.Fatalf("entry = %q v%d, %v; want \"w\" v2: Put applied exactly once", e.Value, e.Version, err)
	}
	// A read is retried by go-redis and succeeds.
	p.reset.Store(true)
	if v, err := c.Get(ctx); err != nil || v != 20 {
		t.Fatalf("Get reset once = %d, %v; want 20 after a retry", v, err)
	}
}

// TestLostReplyOfScriptIsAmbiguous does the same for a script (map put).
func TestLostReplyOfScriptIsAmbiguous(t *testing.T) {
	ctx := testContext(t)
	d, p, direct := newProxiedDriver(t)
	id := testID(t, "m")
	m, err := d.OpenMap(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	e1, err := m.Put(ctx, "k", []byte("v1"), 0)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	lost := p.lostReplies()
	p.mute.Store(true)
	_, err = m.Put(ctx, "k", []byte("v2"), 0)
	if !errors.Is(err, driver.ErrAmbiguous) {
		t.Fatalf("Put with its reply lost: got %v, want ErrAmbiguous", err)
	}
	p.waitLost(t, lost, 10*time.Second) // applied: checked through direct next
	p.mute.Store(false)
	dm, err := direct.OpenMap(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := dm.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if string(e2.Value) != "v2" || e2.Version != e1.Version+1 {
		t.Fatalf("entry after a lost Put = %q v%d; want \"v2\" v%d (applied exactly once)", e2.Value, e2.Version, e1.Version+1)
	}
}

// TestUnreachable checks that a server that cannot be reached is
// ErrUnavailable, for reads and writes alike: nothing was sent.
func TestUnreachable(t *testing.T) {
	ctx := testContext(t)
	addr := "127.0.0.1:" + itoa(testbackend.FreePort(t))
	d, err := New(&goredis.UniversalOptions{Addrs: []string{addr}, MaxRetries: -1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	m, _ := d.OpenMap(ctx, testID(t, "m"))
	if _, err := m.Put(ctx, "k", []byte("v"), 0); !errors.Is(err, driver.ErrUnavailable) {
		t.Fatalf("Put to a closed port: got %v, want ErrUnavailable", err)
	}
	if _, err := m.Get(ctx, "k"); !errors.Is(err, driver.ErrUnavailable) {
		t.Fatalf("Get from a closed port: got %v, want ErrUnavailable", err)
	}
}

// TestContextErrors checks that an ended context is reported as such.
func TestContextErrors(t *testing.T) {
	d := newTestDriver(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m, _ := d.OpenMap(context.Background(), testID(t, "m"))
	if _, err := m.Put(ctx, "k", []byte("v"), 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context: got %v", err)
	}
}

func TestServerErrorKinds(t *testing.T) {
	for msg, want := range map[string]error{
		"LOADING Redis is loading":        driver.ErrUnavailable,
		"READONLY You can't write":        driver.ErrUnavailable,
		"CLUSTERDOWN The cluster is down": driver.ErrUnavailable,
		"OOM command not allowed":         driver.ErrUnavailable,
		"NOPERM no permission":            driver.ErrUnavailable,
		"WRONGTYPE Operation against a key holding the wrong kind of value": driver.ErrInvalid,
		"ERR max number of clients reached":                                 driver.ErrUnavailable,
		"ERR user_script:1: bad":                                            driver.ErrInvalid,
	} {
		if got := serverErrorKind(msg); got != want {
			t.Errorf("serverErrorKind(%q) = %v, want %v", msg, got, want)
		}
	}
}
