package consul

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

func TestCounterOperations(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	c, _ := d.OpenCounter(ctx, testID("c"))
	other, _ := testDriverAt(t, testbackend.Consul(t), d.prefix).OpenCounter(ctx, testID("c"))
	if v, err := c.Get(ctx); err != nil || v != 0 {
		t.Fatalf("Get of a new counter = %d, %v", v, err)
	}
	if v, err := c.Add(ctx, 5); err != nil || v != 5 {
		t.Fatalf("Add = %d, %v", v, err)
	}
	// Another client's write makes the remembered state stale.
	if err := other.Set(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Add(ctx, -1); err != nil || v != 99 {
		t.Fatalf("Add after another client's Set = %d, %v; want 99", v, err)
	}
	if ok, err := c.CompareAndSet(ctx, 5, 7); err != nil || ok {
		t.Fatalf("CompareAndSet with a wrong expectation = %v, %v", ok, err)
	}
	if ok, err := other.CompareAndSet(ctx, 99, 7); err != nil || !ok {
		t.Fatalf("CompareAndSet = %v, %v", ok, err)
	}
	if ok, err := c.CompareAndSet(ctx, 99, 8); err != nil || ok {
		t.Fatalf("CompareAndSet from a remembered, stale value = %v, %v; want false", ok, err)
	}
	if ok, err := c.CompareAndSet(ctx, 7, 8); err != nil || !ok {
		t.Fatalf("CompareAndSet = %v, %v", ok, err)
	}
	if v, err := c.Add(ctx, 1<<62); err != nil || v != 8+1<<62 {
		t.Fatalf("Add = %d, %v", v, err)
	}
}

func TestList(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	l, _ := d.OpenList(ctx, testID("l"))
	other, _ := testDriverAt(t, testbackend.Consul(t), d.prefix).OpenList(ctx, testID("l"))
	var mirror []string
	ch := make(chan driver.ListEvent, 1000)
	if err := l.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	items := func() []string {
		t.Helper()
		var got []string
		for v, err := range l.Items(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(v))
		}
		return got
	}
	for i, v := range []string{"a", "b", "c"} {
		if idx, err := l.Append(ctx, []byte(v)); err != nil || idx != i {
			t.Fatalf("Append = %d, %v", idx, err)
		}
	}
	// The other instance's remembered header is stale after these.
	if err := other.Insert(ctx, 0, []byte("z")); err != nil {
		t.Fatal(err)
	}
	if err := l.Insert(ctx, 2, []byte("y")); err != nil {
		t.Fatal(err)
	}
	if err := l.Insert(ctx, 6, []byte("x")); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Insert past the end: %v", err)
	}
	if old, err := other.Set(ctx, 1, []byte("A")); err != nil || string(old) != "a" {
		t.Fatalf("Set = %q, %v", old, err)
	}
	if got, err := l.Get(ctx, 1); err != nil || string(got) != "A" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if old, err := l.Remove(ctx, 3); err != nil || string(old) != "b" {
		t.Fatalf("Remove = %q, %v", old, err)
	}
	if _, err := l.Get(ctx, 4); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Get past the end: %v", err)
	}
	want := []string{"z", "A", "y", "c"}
	if got := items(); !slices.Equal(got, want) {
		t.Fatalf("Items = %q, want %q", got, want)
	}
	if n, err := other.Len(ctx); err != nil || n != 4 {
		t.Fatalf("Len = %d, %v", n, err)
	}
	// The events, applied in order, reproduce the list.
	apply := func(ev driver.ListEvent) {
		switch ev.Type {
		case driver.EventInserted:
			mirror = slices.Insert(mirror, ev.Index, string(ev.Value))
		case driver.EventUpdated:
			mirror[ev.Index] = string(ev.Value)
		case driver.EventRemoved:
			if mirror[ev.Index] != string(ev.Value) {
				t.Fatalf("removal of %q at %d, which holds %q", ev.Value, ev.Index, mirror[ev.Index])
			}
			mirror = slices.Delete(mirror, ev.Index, ev.Index+1)
		}
	}
	deadline := time.After(10 * time.Second)
	for !slices.Equal(mirror, want) {
		select {
		case ev := <-ch:
			apply(ev)
		case <-deadline:
			t.Fatalf("the events reproduce %q, want %q", mirror, want)
		}
	}
	if err := l.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if idx, err := other.Append(ctx, []byte("after")); err != nil || idx != 0 {
		t.Fatalf("Append after Clear = %d, %v", idx, err)
	}
	want = []string{"after"}
	for !slices.Equal(mirror, want) {
		select {
		case ev := <-ch:
			apply(ev)
		case <-time.After(10 * time.Second):
			t.Fatalf("the events reproduce %q, want %q", mirror, want)
		}
	}
}

func TestIndexedMap(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	m, _ := d.OpenIndexedMap(ctx, testID("im"))
	other, _ := testDriverAt(t, testbackend.Consul(t), d.prefix).OpenIndexedMap(ctx, testID("im"))
	a, err := m.Append(ctx, "a", []byte("1"))
	if err != nil || a.Index != 1 {
		t.Fatalf("Append = %+v, %v", a, err)
	}
	b, err := other.Append(ctx, "b", []byte("2"))
	if err != nil || b.Index != 2 || b.Version <= a.Version {
		t.Fatalf("Append = %+v, %v", b, err)
	}
	c, err := m.Append(ctx, "c", []byte("3")) // from a stale remembered index
	if err != nil || c.Index != 3 {
		t.Fatalf("Append = %+v, %v", c, err)
	}
	if _, err := m.Append(ctx, "a", []byte("x")); !errors.Is(err, driver.ErrAlreadyExists) {
		t.Fatalf("Append of a present key: %v", err)
	}
	u, err := m.Update(ctx, "b", []byte("22"), b.Version)
	if err != nil || u.Index != 2 || u.Version <= c.Version {
		t.Fatalf("Update = %+v, %v", u, err)
	}
	if _, err := m.Update(ctx, "b", []byte("x"), b.Version); !errors.Is(err, driver.ErrConflict) {
		t.Fatalf("Update with a stale version: %v", err)
	}
	if _, err := m.Update(ctx, "zz", []byte("x"), 0); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Update of an absent key: %v", err)
	}
	if e, err := m.GetIndex(ctx, 2); err != nil || e.Key != "b" || string(e.Value) != "22" {
		t.Fatalf("GetIndex = %+v, %v", e, err)
	}
	if e, err := m.First(ctx); err != nil || e.Key != "a" {
		t.Fatalf("First = %+v, %v", e, err)
	}
	if e, err := m.Last(ctx); err != nil || e.Key != "c" {
		t.Fatalf("Last = %+v, %v", e, err)
	}
	if _, err := m.RemoveIndex(ctx, 2, b.Version); !errors.Is(err, driver.ErrConflict) {
		t.Fatalf("RemoveIndex with a stale version: %v", err)
	}
	if e, err := m.RemoveIndex(ctx, 2, u.Version); err != nil || e.Key != "b" {
		t.Fatalf("RemoveIndex = %+v, %v", e, err)
	}
	if e, err := m.Next(ctx, 1); err != nil || e.Key != "c" {
		t.Fatalf("Next(1) = %+v, %v", e, err)
	}
	if e, err := m.Prev(ctx, 3); err != nil || e.Key != "a" {
		t.Fatalf("Prev(3) = %+v, %v", e, err)
	}
	if _, err := m.Prev(ctx, 1); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Prev(1): %v", err)
	}
	if _, err := m.GetIndex(ctx, 2); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("GetIndex of a removed index: %v", err)
	}
	var keys []string
	for e, err := range m.Entries(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, fmt.Sprintf("%s@%d", e.Key, e.Index))
	}
	if fmt.Sprint(keys) != "[a@1 c@3]" {
		t.Fatalf("Entries = %v", keys)
	}
	if err := m.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Len(ctx); err != nil || n != 0 {
		t.Fatalf("Len after Clear = %d, %v", n, err)
	}
	if e, err := other.Append(ctx, "a", []byte("again")); err != nil || e.Index != 4 {
		t.Fatalf("Append after Clear = %+v, %v; indexes are not reused", e, err)
	}
	if _, err := m.First(ctx); err != nil {
		t.Fatal(err)
	}
}
