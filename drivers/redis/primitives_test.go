package redis

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/atomix/go-client/driver"
)

// TestScriptCacheFlushed checks the EVAL fallback when the server has
// forgotten the scripts.
func TestScriptCacheFlushed(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	m, _ := d.OpenMap(ctx, testID(t, "m"))
	if _, err := m.Put(ctx, "k", []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	if err := d.client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	e, err := m.Put(ctx, "k", []byte("2"), 0)
	if err != nil {
		t.Fatalf("Put after SCRIPT FLUSH: %v", err)
	}
	if got, err := m.Get(ctx, "k"); err != nil || string(got.Value) != "2" || got.Version != e.Version {
		t.Fatalf("Get = %+v, %v", got, err)
	}
}

// TestCounterExtremes checks that INCRBY's refusal of an overflow is
// ErrInvalid and that the compare-and-set script keeps extreme values
// exactly.
func TestCounterExtremes(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	c, _ := d.OpenCounter(ctx, testID(t, "c"))
	if err := c.Set(ctx, math.MaxInt64-1); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Add(ctx, 2); !errors.Is(err, driver.ErrInvalid) {
		t.Fatalf("MaxInt64-1 + 2 = %d, %v; want ErrInvalid", v, err)
	}
	ok, err := c.CompareAndSet(ctx, math.MaxInt64-1, math.MinInt64)
	if err != nil || !ok {
		t.Fatalf("CompareAndSet = %v, %v", ok, err)
	}
	if v, err := c.Get(ctx); err != nil || v != math.MinInt64 {
		t.Fatalf("Get = %d, %v", v, err)
	}
	if ok, err := c.CompareAndSet(ctx, 5, 6); err != nil || ok {
		t.Fatalf("failed CompareAndSet = %v, %v", ok, err)
	}
}

// TestListInsertAndRemoveEverywhere checks the pop-and-push paths on both
// sides of every index against a slice.
func TestListInsertAndRemoveEverywhere(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	l, _ := d.OpenList(ctx, testID(t, "l"))
	var want []string
	for i := range 7 {
		v := fmt.Sprint("x", i)
		if idx, err := l.Append(ctx, []byte(v)); err != nil || idx != i {
			t.Fatalf("Append = %d, %v", idx, err)
		}
		want = append(want, v)
	}
	check := func(what string) {
		t.Helper()
		var got []string
		for it, err := range l.Items(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(it))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: list %q, want %q", what, got, want)
		}
	}
	for i, n := 0, len(want); i <= n; i += 2 {
		v := fmt.Sprint("ins", i)
		if err := l.Insert(ctx, i, []byte(v)); err != nil {
			t.Fatal(err)
		}
		want = slices.Insert(want, i, v)
		check(fmt.Sprint("insert at ", i))
	}
	for i := len(want) - 1; i >= 0; i -= 2 {
		old, err := l.Remove(ctx, i)
		if err != nil || string(old) != want[i] {
			t.Fatalf("Remove(%d) = %q, %v; want %q", i, old, err, want[i])
		}
		want = slices.Delete(want, i, i+1)
		check(fmt.Sprint("remove at ", i))
	}
	if err := l.Insert(ctx, len(want)+1, []byte("x")); !isKind(err, driver.ErrNotFound) {
		t.Fatalf("Insert past the end: %v", err)
	}
	if _, err := l.Set(ctx, len(want), []byte("x")); !isKind(err, driver.ErrNotFound) {
		t.Fatalf("Set past the end: %v", err)
	}
}

// TestListItemsFromSnapshot checks that an iteration over a list longer
// than a page sees the list as it was when it started.
func TestListItemsFromSnapshot(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	l, _ := d.OpenList(ctx, testID(t, "l"))
	n := 3*scanCount + 7
	for i := range n {
		if _, err := l.Append(ctx, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	for it, err := range l.Items(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if string(it) != fmt.Sprint(i) {
			t.Fatalf("item %d = %q", i, it)
		}
		if i == 0 {
			if _, err := l.Remove(ctx, 0); err != nil { // not seen by the iteration
				t.Fatal(err)
			}
		}
		i++
	}
	if i != n {
		t.Fatalf("%d items, want %d", i, n)
	}
	keys, err := d.client.Keys(ctx, l.(*list).ks.key("snap:*")).Result()
	if err != nil || len(keys) != 0 {
		t.Fatalf("snapshot keys left behind: %q, %v", keys, err)
	}
}
