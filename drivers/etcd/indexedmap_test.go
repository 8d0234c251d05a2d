package etcd

import (
	"errors"
	"strconv"
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

// TestIndexedMapLastPrevGaps: Last and Prev, First and Next, which search
// with reads of bounded segments instead of reads of the whole range, agree
// with a model over
// entries removed in runs long and short (gaps of every scale below the
// counter, at the top and in the middle), from an instance whose cached
// counter is stale and from a fresh one.
func TestIndexedMapLastPrevGaps(t *testing.T) {
	ctx := testContext(t)
	prefix := testPrefix(t)
	id := driver.ID{Name: "im"}
	m, _ := newTestDriver(t, prefix).OpenIndexedMap(ctx, id)
	const n = 1200
	present := map[uint64]bool{}
	for i := range n {
		e, err := m.Append(ctx, "k"+strconv.Itoa(i), []byte("v"))
		if err != nil {
			t.Fatal(err)
		}
		present[e.Index] = true
	}
	remove := func(from, to uint64) {
		for i := from; i < to; i++ {
			if !present[i] {
				continue
			}
			if _, err := m.RemoveIndex(ctx, i, 0); err != nil {
				t.Fatal(err)
			}
			delete(present, i)
		}
	}
	lastBelow := func(limit uint64) (uint64, bool) {
		for i := min(limit, n+1) - 1; i >= 1; i-- {
			if present[i] {
				return i, true
			}
		}
		return 0, false
	}
	firstFrom := func(from uint64) (uint64, bool) {
		for i := max(from, 1); i <= n+1; i++ {
			if present[i] {
				return i, true
			}
		}
		return 0, false
	}
	check := func(what string, im driver.IndexedMap) {
		t.Helper()
		for _, from := range []uint64{0, 1, 2, 40, 60, 333, 649, 650, 1000, n, n + 1, n + 500} {
			want, ok := firstFrom(from)
			var e driver.Entry
			var err error
			if from == 0 {
				e, err = im.First(ctx)
			} else {
				e, err = im.Next(ctx, from-1)
			}
			if !ok {
				if !errors.Is(err, driver.ErrNotFound) {
					t.Errorf("%s: first from %d = %+v, %v; want ErrNotFound", what, from, e, err)
				}
			} else if err != nil || e.Index != want {
				t.Errorf("%s: first from %d = %d, %v; want %d", what, from, e.Index, err, want)
			}
		}
		want, ok := lastBelow(n + 1)
		e, err := im.Last(ctx)
		if !ok {
			if !errors.Is(err, driver.ErrNotFound) {
				t.Errorf("%s: Last = %+v, %v; want ErrNotFound", what, e, err)
			}
		} else if err != nil || e.Index != want {
			t.Errorf("%s: Last = %d, %v; want %d", what, e.Index, err, want)
		}
		for _, limit := range []uint64{1, 2, 17, 100, 333, 600, 1000, n, n + 1, n + 500} {
			want, ok := lastBelow(limit)
			e, err := im.Prev(ctx, limit)
			if !ok {
				if !errors.Is(err, driver.ErrNotFound) {
					t.Errorf("%s: Prev(%d) = %+v, %v; want ErrNotFound", what, limit, e, err)
				}
			} else if err != nil || e.Index != want {
				t.Errorf("%s: Prev(%d) = %d, %v; want %d", what, limit, e.Index, err, want)
			}
		}
	}
	check("all present", m)
	remove(1190, n+1) // a short gap at the top
	check("short gap at the top", m)
	remove(700, 1190) // a long one
	check("long gap at the top", m)
	remove(50, 650) // and one in the middle
	check("gap in the middle", m)
	remove(1, 40) // and one at the bottom
	check("gap at the bottom", m)
	other, _ := newTestDriver(t, prefix).OpenIndexedMap(ctx, id)
	check("a fresh instance", other)
	if _, err := other.Append(ctx, "late", []byte("v")); err != nil { // m's counter is stale now
		t.Fatal(err)
	}
	present[n+1] = true
	if e, err := m.Last(ctx); err != nil || e.Index != n+1 {
		t.Errorf("Last after another instance appended = %d, %v; want %d", e.Index, err, n+1)
	}
	remove(1, n+2)
	check("all removed", m)
}
