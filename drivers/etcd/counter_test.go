package etcd

import (
	"errors"
	"math"
	"testing"

	"github.com/atomix/go-client/driver"
)

// TestCounterAddRoundTrips checks the cost of Add: one request while this
// instance's guess of the revision is right, exactly one more when another
// client wrote in between.
func TestCounterAddRoundTrips(t *testing.T) {
	ctx := testContext(t)
	prefix := testPrefix(t)
	id := driver.ID{Namespace: "ns", Name: "c"}
	d1 := newTestDriver(t, prefix)
	requests := countRequests(d1)
	c1, _ := d1.OpenCounter(ctx, id)
	d2 := newTestDriver(t, prefix)
	c2, _ := d2.OpenCounter(ctx, id)

	step := func(name string, f func() (int64, error), want int64, wantRequests int64) {
		t.Helper()
		before := requests.requests()
		got, err := f()
		if err != nil || got != want {
			t.Fatalf("%s = %d, %v; want %d", name, got, err, want)
		}
		if n := requests.requests() - before; n != wantRequests {
			t.Errorf("%s took %d requests, want %d", name, n, wantRequests)
		}
	}
	add := func(c driver.Counter, delta int64) func() (int64, error) {
		return func() (int64, error) { return c.Add(ctx, delta) }
	}
	step("first Add on a new counter", add(c1, 5), 5, 1)
	step("second Add", add(c1, 2), 7, 1)
	if _, err := c2.Add(ctx, 10); err != nil { // c2 starts cold: one retry
		t.Fatal(err)
	}
	step("Add after another client's write", add(c1, 1), 18, 2)
	step("Add once caught up", add(c1, -20), -2, 1)
	if err := c2.Set(ctx, 100); err != nil {
		t.Fatal(err)
	}
	step("Add after another client's Set", add(c1, 1), 101, 2)
}

func TestCounterCompareAndSet(t *testing.T) {
	ctx := testContext(t)
	c, _ := newTestDriver(t, testPrefix(t)).OpenCounter(ctx, driver.ID{Name: "c"})
	steps := []struct {
		expect, update int64
		want           bool
	}{
		{0, 5, true},  // a counter never written is 0
		{0, 6, false}, // now it is 5
		{5, 0, true},
		{0, 7, true}, // a written 0 is 0 too
		{-1, 8, false},
		{7, -1, true},
		{-1, math.MaxInt64, true},
	}
	for _, s := range steps {
		got, err := c.CompareAndSet(ctx, s.expect, s.update)
		if err != nil || got != s.want {
			t.Fatalf("CompareAndSet(%d, %d) = %v, %v; want %v", s.expect, s.update, got, err, s.want)
		}
	}
	if got, err := c.Add(ctx, 1); !errors.Is(err, driver.ErrInvalid) {
		t.Errorf("Add past MaxInt64 = %d, %v; want ErrInvalid", got, err)
	}
}
