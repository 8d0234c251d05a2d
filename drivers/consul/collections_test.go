package consul

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

func TestCounterConcurrentAdds(t *testing.T) {
	ctx := testContext(t)
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	const clients, adds = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, clients*adds)
	for range clients {
		c, _ := testDriverAt(t, addr, prefix).OpenCounter(ctx, testID("c"))
		wg.Go(func() {
			for range adds {
				if _, err := c.Add(ctx, 1); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c, _ := testDriverAt(t, addr, prefix).OpenCounter(ctx, testID("c"))
	if v, err := c.Get(ctx); err != nil || v != clients*adds {
		t.Fatalf("Get = %d, %v; want %d", v, err, clients*adds)
	}
}

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

func TestValue(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	v, _ := d.OpenValue(ctx, testID("v"))
	if _, _, err := v.Get(ctx); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Get of an unset value: %v", err)
	}
	if _, err := v.Set(ctx, []byte("x"), 1); !errors.Is(err, driver.ErrConflict) {
		t.Fatalf("Set of an absent value with a version: %v, want ErrConflict", err)
	}
	// The watch reports states (blocking queries), so writes between two of
	// its answers merge: a Set, a Set and a Delete may even merge into no
	// change at all. Each write whose event is asserted is therefore waited
	// for before the next write.
	ch := make(chan driver.ValueEvent)
	if err := v.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	v1, err := v.Set(ctx, []byte("a"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if ev := recvWithin(t, ch, 10*time.Second); ev.Type != driver.EventInserted || string(ev.Value) != "a" || ev.Version != v1 {
		t.Fatalf("event %+v, want the insertion of %q at %d", ev, "a", v1)
	}
	v2, err := v.Set(ctx, []byte("b"), v1)
	if err != nil || v2 <= v1 {
		t.Fatalf("Set with the current version = %d, %v", v2, err)
	}
	if _, err := v.Set(ctx, []byte("c"), v1); !errors.Is(err, driver.ErrConflict) {
		t.Fatalf("Set with a stale version: %v", err)
	}
	if got, ver, err := v.Get(ctx); err != nil || string(got) != "b" || ver != v2 {
		t.Fatalf("Get = %q, %d, %v", got, ver, err)
	}
	if err := v.Delete(ctx, v1); !errors.Is(err, driver.ErrConflict) {
		t.Fatalf("Delete with a stale version: %v", err)
	}
	if err := v.Delete(ctx, v2); err != nil {
		t.Fatal(err)
	}
	if err := v.Delete(ctx, 0); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Delete of an absent value: %v", err)
	}
	// The update to "b" may merge with the Delete; the removal may not, and
	// it removes whichever state the watcher saw last.
	ev := recvWithin(t, ch, 10*time.Second)
	seen, seenVersion := "a", v1
	if ev.Type == driver.EventUpdated {
		if string(ev.Value) != "b" || ev.Version != v2 {
			t.Fatalf("event %+v, want the update to %q at %d", ev, "b", v2)
		}
		seen, seenVersion = "b", v2
		ev = recvWithin(t, ch, 10*time.Second)
	}
	if ev.Type != driver.EventRemoved || string(ev.Value) != seen || ev.Version != seenVersion {
		t.Fatalf("event %+v, want the removal of %q at %d", ev, seen, seenVersion)
	}
	select {
	case ev := <-ch:
		t.Fatalf("event %+v after the removal", ev)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestSet(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	s, _ := d.OpenSet(ctx, testID("s"))
	ch := make(chan driver.ElementEvent)
	if err := s.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"a", "a/b", ""} {
		if ok, err := s.Add(ctx, e); err != nil || !ok {
			t.Fatalf("Add(%q) = %v, %v", e, ok, err)
		}
		if ev := recvWithin(t, ch, 10*time.Second); ev.Type != driver.EventInserted || ev.Element != e {
			t.Fatalf("event %+v, want insertion of %q", ev, e)
		}
	}
	if ok, err := s.Add(ctx, "a"); err != nil || ok {
		t.Fatalf("Add of a present element = %v, %v", ok, err)
	}
	if ok, err := s.Contains(ctx, "a/b"); err != nil || !ok {
		t.Fatalf("Contains = %v, %v", ok, err)
	}
	if ok, err := s.Contains(ctx, "b"); err != nil || ok {
		t.Fatalf("Contains of an absent element = %v, %v", ok, err)
	}
	var got []string
	for e, err := range s.Elements(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	slices.Sort(got)
	if fmt.Sprintf("%q", got) != `["" "a" "a/b"]` {
		t.Fatalf("Elements = %q", got)
	}
	if ok, err := s.Remove(ctx, "a"); err != nil || !ok {
		t.Fatalf("Remove = %v, %v", ok, err)
	}
	if ev := recvWithin(t, ch, 10*time.Second); ev.Type != driver.EventRemoved || ev.Element != "a" {
		t.Fatalf("event %+v", ev)
	}
	if ok, err := s.Remove(ctx, "a"); err != nil || ok {
		t.Fatalf("Remove of an absent element = %v, %v", ok, err)
	}
	if n, err := s.Len(ctx); err != nil || n != 2 {
		t.Fatalf("Len = %d, %v", n, err)
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 2 {
		ev := recvWithin(t, ch, 10*time.Second)
		if ev.Type != driver.EventRemoved {
			t.Fatalf("event %+v after Clear", ev)
		}
		seen[ev.Element] = true
	}
	if !seen[""] || !seen["a/b"] {
		t.Fatalf("removals after Clear: %v", seen)
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
