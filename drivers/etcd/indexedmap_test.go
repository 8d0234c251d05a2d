package etcd

import (
	"errors"
	"testing"

	"github.com/atomix/go-client/driver"
)

// TestIndexedMapIndexes: indexes start at 1, are kept by Update, are never
// reused (also across Clear), and both copies of an entry agree.
func TestIndexedMapIndexes(t *testing.T) {
	ctx := testContext(t)
	prefix := testPrefix(t)
	id := driver.ID{Name: "im"}
	m, _ := newTestDriver(t, prefix).OpenIndexedMap(ctx, id)
	other, _ := newTestDriver(t, prefix).OpenIndexedMap(ctx, id)
	ch := make(chan driver.EntryEvent, 20)
	if err := m.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}

	a, err := m.Append(ctx, "a", []byte("1"))
	if err != nil || a.Index != 1 {
		t.Fatalf("first Append = %+v, %v; want index 1", a, err)
	}
	b, err := other.Append(ctx, "b", []byte("2")) // from a cold instance
	if err != nil || b.Index != 2 {
		t.Fatalf("second Append = %+v, %v; want index 2", b, err)
	}
	if _, err := m.Append(ctx, "b", []byte("x")); !errors.Is(err, driver.ErrAlreadyExists) {
		t.Errorf("Append of an existing key: %v, want ErrAlreadyExists", err)
	}
	u, err := m.Update(ctx, "a", []byte("1'"), a.Version)
	if err != nil || u.Index != 1 || u.Version <= b.Version {
		t.Fatalf("Update = %+v, %v", u, err)
	}
	if _, err := m.Update(ctx, "a", []byte("x"), a.Version); !errors.Is(err, driver.ErrConflict) {
		t.Errorf("Update at a stale version: %v, want ErrConflict", err)
	}
	byIndex, err := m.GetIndex(ctx, 1)
	if err != nil || byIndex.Key != "a" || string(byIndex.Value) != "1'" || byIndex.Version != u.Version {
		t.Errorf("GetIndex(1) = %+v, %v; want the updated entry", byIndex, err)
	}
	if e, err := m.Next(ctx, 1); err != nil || e.Key != "b" {
		t.Errorf("Next(1) = %+v, %v", e, err)
	}
	if e, err := m.Prev(ctx, 2); err != nil || e.Key != "a" {
		t.Errorf("Prev(2) = %+v, %v", e, err)
	}
	if _, err := m.Prev(ctx, 1); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("Prev(1): %v, want ErrNotFound", err)
	}
	if e, err := m.RemoveIndex(ctx, 2, 0); err != nil || e.Key != "b" {
		t.Errorf("RemoveIndex(2) = %+v, %v", e, err)
	}
	if _, err := m.Get(ctx, "b"); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("Get of a key removed by index: %v, want ErrNotFound", err)
	}
	if err := m.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := other.Append(ctx, "a", []byte("3"))
	if err != nil || c.Index != 3 {
		t.Errorf("Append after Clear = %+v, %v; want index 3", c, err)
	}

	want := []struct {
		typ   driver.EventType
		key   string
		index uint64
	}{
		{driver.EventInserted, "a", 1},
		{driver.EventInserted, "b", 2},
		{driver.EventUpdated, "a", 1},
		{driver.EventRemoved, "b", 2},
		{driver.EventRemoved, "a", 1},
		{driver.EventInserted, "a", 3},
	}
	for _, w := range want {
		ev := nextEvent(t, ch)
		if ev.Type != w.typ || ev.Entry.Key != w.key || ev.Entry.Index != w.index {
			t.Errorf("event = %v %q@%d, want %v %q@%d", ev.Type, ev.Entry.Key, ev.Entry.Index, w.typ, w.key, w.index)
		}
	}
}
