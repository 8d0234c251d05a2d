package consul

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbackend.Shutdown()
	os.Exit(code)
}

// testDriver returns a driver on the test agent, under a KV prefix of its
// own, closed when the test ends.
func testDriver(t testing.TB) *Driver {
	t.Helper()
	return testDriverAt(t, testbackend.Consul(t), testPrefix(t))
}

func testDriverAt(t testing.TB, addr, prefix string) *Driver {
	t.Helper()
	d, err := New(Config{Address: addr, Options: Options{Prefix: prefix}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d.Close(ctx)
	})
	return d
}

// testPrefix returns a KV prefix no other test uses.
func testPrefix(t testing.TB) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "atomix-test/" + hex.EncodeToString(b)
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func testID(name string) driver.ID { return driver.ID{Namespace: "ns", Name: name} }

func testSession(t testing.TB, d *Driver) driver.Session {
	t.Helper()
	s, err := d.NewSession(testContext(t), driver.SessionOptions{TTL: 10 * time.Second})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// recvWithin receives from ch or fails after d.
func recvWithin[T any](t testing.TB, ch <-chan T, d time.Duration) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("channel closed")
		}
		return v
	case <-time.After(d):
		t.Fatalf("nothing received within %v", d)
	}
	var zero T
	return zero
}

// waitUntil polls cond until it holds, failing t with what after d.
func waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func closedWithin(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}
