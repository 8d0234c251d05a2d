package memory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTTL is the session TTL of tests that run on a ManualClock.
const testTTL = 3 * time.Second

// newTestStore returns a store on a manual clock, and a function that
// connects to it and closes the connection when the test ends.
func newTestStore(t *testing.T, opts ...Option) (*Store, *ManualClock, func() *Driver) {
	t.Helper()
	clock := NewManualClock(time.Unix(1_000_000, 0))
	s := NewStore(append([]Option{WithClock(clock)}, opts...)...)
	connect := func() *Driver {
		d := s.Connect()
		t.Cleanup(func() { d.Close(context.Background()) })
		return d
	}
	return s, clock, connect
}

func newSession(t *testing.T, d *Driver) driver.Session {
	t.Helper()
	s, err := d.NewSession(context.Background(), driver.SessionOptions{TTL: testTTL})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	return s
}

func id(name string) driver.ID { return driver.ID{Namespace: "test", Name: name} }

// wantErr fails the test unless err wraps want.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want one wrapping %v", what, err, want)
	}
}

// must fails the test on a non-nil err.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// closed reports whether ch is closed, waiting up to a second for it.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-time.After(time.Second):
		return false
	}
}

// open reports whether ch is still open.
func open(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

// recv receives from ch, failing the test if nothing comes within 5s.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received within 5s")
		panic("unreachable")
	}
}
