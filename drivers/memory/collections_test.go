package memory

import (
	"context"
	"slices"
	"testing"

	"github.com/atomix/go-client/driver"
)

func TestCounter(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	c, _ := connect().OpenCounter(ctx, id("c"))
	if v, err := c.Get(ctx); v != 0 || err != nil {
		t.Fatalf("new counter = %d, %v", v, err)
	}
	must(t, "set", c.Set(ctx, 10))
	if v, _ := c.Add(ctx, -3); v != 7 {
		t.Fatalf("add = %d", v)
	}
	if ok, _ := c.CompareAndSet(ctx, 8, 1); ok {
		t.Fatal("compare and set with a wrong expectation succeeded")
	}
	if ok, _ := c.CompareAndSet(ctx, 7, 1); !ok {
		t.Fatal("compare and set with the right expectation failed")
	}
	c2, _ := connect().OpenCounter(ctx, id("c"))
	if v, _ := c2.Get(ctx); v != 1 {
		t.Fatalf("another connection reads %d", v)
	}
}

func TestSet(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	s, _ := connect().OpenSet(ctx, id("s"))
	if ok, _ := s.Add(ctx, "a"); !ok {
		t.Fatal("add of an absent element reported false")
	}
	if ok, _ := s.Add(ctx, "a"); ok {
		t.Fatal("add of a present element reported true")
	}
	s.Add(ctx, "b")
	if ok, _ := s.Contains(ctx, "b"); !ok {
		t.Fatal("contains b = false")
	}
	var got []string
	for e, err := range s.Elements(ctx) {
		must(t, "elements", err)
		got = append(got, e)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("elements %v", got)
	}
	if ok, _ := s.Remove(ctx, "a"); !ok {
		t.Fatal("remove of a present element reported false")
	}
	if ok, _ := s.Remove(ctx, "a"); ok {
		t.Fatal("remove of an absent element reported true")
	}
	must(t, "clear", s.Clear(ctx))
	if n, _ := s.Len(ctx); n != 0 {
		t.Fatalf("len %d after clear", n)
	}
}

func TestValue(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	v, _ := connect().OpenValue(ctx, id("v"))
	_, _, err := v.Get(ctx)
	wantErr(t, "get of an unset value", err, driver.ErrNotFound)
	_, err = v.Set(ctx, []byte("x"), 1)
	wantErr(t, "set with a version of an unset value", err, driver.ErrConflict)
	wantErr(t, "delete of an unset value", v.Delete(ctx, 0), driver.ErrNotFound)
	v1, err := v.Set(ctx, []byte("1"), 0)
	must(t, "set", err)
	_, err = v.Set(ctx, []byte("2"), v1+1)
	wantErr(t, "set with a wrong version", err, driver.ErrConflict)
	v2, err := v.Set(ctx, []byte("2"), v1)
	must(t, "set with the right version", err)
	if got, ver, _ := v.Get(ctx); string(got) != "2" || ver != v2 || v2 <= v1 {
		t.Fatalf("get = %q, %d after versions %d, %d", got, ver, v1, v2)
	}
	wantErr(t, "delete with a wrong version", v.Delete(ctx, v1), driver.ErrConflict)
	must(t, "delete", v.Delete(ctx, v2))
	_, _, err = v.Get(ctx)
	wantErr(t, "get after delete", err, driver.ErrNotFound)
}

func TestList(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	l, _ := connect().OpenList(ctx, id("l"))
	items := func() []string {
		var s []string
		for item, err := range l.Items(ctx) {
			must(t, "items", err)
			s = append(s, string(item))
		}
		return s
	}
	for i, v := range []string{"a", "c"} {
		if idx, err := l.Append(ctx, []byte(v)); idx != i || err != nil {
			t.Fatalf("append %q = %d, %v", v, idx, err)
		}
	}
	must(t, "insert", l.Insert(ctx, 1, []byte("b")))
	must(t, "insert at the end", l.Insert(ctx, 3, []byte("d")))
	wantErr(t, "insert past the end", l.Insert(ctx, 5, []byte("x")), driver.ErrNotFound)
	wantErr(t, "insert at a negative index", l.Insert(ctx, -1, []byte("x")), driver.ErrInvalid)
	if got := items(); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("items %v", got)
	}
	old, err := l.Set(ctx, 3, []byte("D"))
	if string(old) != "d" || err != nil {
		t.Fatalf("set = %q, %v", old, err)
	}
	_, err = l.Set(ctx, 4, nil)
	wantErr(t, "set past the end", err, driver.ErrNotFound)
	removed, err := l.Remove(ctx, 0)
	if string(removed) != "a" || err != nil {
		t.Fatalf("remove = %q, %v", removed, err)
	}
	_, err = l.Get(ctx, 3)
	wantErr(t, "get past the end", err, driver.ErrNotFound)
	if got, _ := l.Get(ctx, 2); string(got) != "D" {
		t.Fatalf("get 2 = %q", got)
	}
	must(t, "clear", l.Clear(ctx))
	if n, _ := l.Len(ctx); n != 0 {
		t.Fatalf("len %d after clear", n)
	}
}

func TestIndexedMap(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	m, _ := connect().OpenIndexedMap(ctx, id("im"))
	_, err := m.First(ctx)
	wantErr(t, "first of an empty map", err, driver.ErrNotFound)
	var es []driver.Entry
	for _, k := range []string{"a", "b", "c", "d"} {
		e, err := m.Append(ctx, k, []byte(k))
		must(t, "append", err)
		es = append(es, e)
	}
	if es[0].Index != 1 || es[3].Index != 4 {
		t.Fatalf("indexes %d..%d, want 1..4", es[0].Index, es[3].Index)
	}
	_, err = m.Append(ctx, "a", nil)
	wantErr(t, "append of a present key", err, driver.ErrAlreadyExists)
	_, err = m.RemoveIndex(ctx, 2, es[2].Version)
	wantErr(t, "remove index with a wrong version", err, driver.ErrConflict)
	_, err = m.RemoveIndex(ctx, 2, es[1].Version)
	must(t, "remove index 2", err)
	_, err = m.Remove(ctx, "c", 0)
	must(t, "remove c", err)
	_, err = m.GetIndex(ctx, 2)
	wantErr(t, "get a removed index", err, driver.ErrNotFound)

	upd, err := m.Update(ctx, "d", []byte("D"), es[3].Version)
	must(t, "update", err)
	if upd.Index != 4 || upd.Version <= es[3].Version {
		t.Fatalf("update returned %+v", upd)
	}
	_, err = m.Update(ctx, "d", []byte("x"), es[3].Version)
	wantErr(t, "update with a stale version", err, driver.ErrConflict)
	_, err = m.Update(ctx, "zz", []byte("x"), 0)
	wantErr(t, "update of an absent key", err, driver.ErrNotFound)

	check := func(what string, e driver.Entry, err error, key string) {
		t.Helper()
		must(t, what, err)
		if e.Key != key {
			t.Fatalf("%s = %+v, want key %q", what, e, key)
		}
	}
	e, err := m.First(ctx)
	check("first", e, err, "a")
	e, err = m.Last(ctx)
	check("last", e, err, "d")
	e, err = m.Next(ctx, 1)
	check("next 1", e, err, "d")
	e, err = m.Next(ctx, 2)
	check("next 2 (removed)", e, err, "d")
	e, err = m.Prev(ctx, 4)
	check("prev 4", e, err, "a")
	e, err = m.Prev(ctx, 100)
	check("prev 100", e, err, "d")
	e, err = m.Get(ctx, "d")
	check("get d", e, err, "d")
	if string(e.Value) != "D" || e.Index != 4 {
		t.Fatalf("get d = %+v", e)
	}
	_, err = m.Next(ctx, 4)
	wantErr(t, "next of the last", err, driver.ErrNotFound)
	_, err = m.Prev(ctx, 1)
	wantErr(t, "prev of the first", err, driver.ErrNotFound)

	var keys []string
	for e, err := range m.Entries(ctx) {
		must(t, "entries", err)
		keys = append(keys, e.Key)
	}
	if !slices.Equal(keys, []string{"a", "d"}) {
		t.Fatalf("entries in index order: %v", keys)
	}
	must(t, "clear", m.Clear(ctx))
	e, err = m.Append(ctx, "a", nil)
	must(t, "append after clear", err)
	if e.Index != 5 {
		t.Fatalf("index %d after clear, want 5 (never reused)", e.Index)
	}
}
