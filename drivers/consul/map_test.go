package consul

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

func TestMapOperations(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	m, err := d.OpenMap(ctx, testID("m"))
	if err != nil {
		t.Fatal(err)
	}

	e1, err := m.Put(ctx, "a/b", []byte("1"), 0)
	if err != nil || e1.Version == 0 {
		t.Fatalf("Put = %+v, %v", e1, err)
	}
	if _, err := m.Insert(ctx, "a/b", []byte("x")); !errors.Is(err, driver.ErrAlreadyExists) {
		t.Fatalf("Insert of present key: %v, want ErrAlreadyExists", err)
	}
	if _, err := m.Put(ctx, "a/b", []byte("x"), e1.Version+1000); !errors.Is(err, driver.ErrConflict) {
		t.Fatalf("Put with a stale version: %v, want ErrConflict", err)
	}
	if _, err := m.Put(ctx, "absent", []byte("x"), e1.Version); !errors.Is(err, driver.ErrConflict) {
		t.Fatalf("Put of an absent key with a version: %v, want ErrConflict", err)
	}
	e2, err := m.Put(ctx, "a/b", []byte("2"), e1.Version)
	if err != nil || e2.Version <= e1.Version {
		t.Fatalf("Put with the current version = %+v, %v; want a version above %d", e2, err, e1.Version)
	}
	if _, err := m.Update(ctx, "absent", []byte("x"), 0); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Update of an absent key: %v, want ErrNotFound", err)
	}
	if _, err := m.Update(ctx, "a/b", []byte("x"), e1.Version); !errors.Is(err, driver.ErrConflict) {
		t.Fatalf("Update with a stale version: %v, want ErrConflict", err)
	}
	e3, err := m.Update(ctx, "a/b", []byte("3"), e2.Version)
	if err != nil || e3.Version <= e2.Version {
		t.Fatalf("Update = %+v, %v", e3, err)
	}
	got, err := m.Get(ctx, "a/b")
	if err != nil || string(got.Value) != "3" || got.Version != e3.Version || got.Key != "a/b" {
		t.Fatalf("Get = %+v, %v; want 3 at %d", got, err, e3.Version)
	}
	if _, err := m.Get(ctx, "a"); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Get of a prefix of a key: %v, want ErrNotFound", err)
	}
	e4, err := m.Insert(ctx, "c", []byte("4"))
	if err != nil || e4.Version <= e3.Version {
		t.Fatalf("Insert = %+v, %v", e4, err)
	}
	if n, err := m.Len(ctx); err != nil || n != 2 {
		t.Fatalf("Len = %d, %v; want 2", n, err)
	}
	entries := map[string]string{}
	for e, err := range m.Entries(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		entries[e.Key] = string(e.Value)
	}
	if fmt.Sprint(entries) != "map[a/b:3 c:4]" {
		t.Fatalf("Entries = %v", entries)
	}
	if _, err := m.Remove(ctx, "c", e3.Version); !errors.Is(err, driver.ErrConflict) {
		t.Fatalf("Remove with a stale version: %v, want ErrConflict", err)
	}
	removed, err := m.Remove(ctx, "c", e4.Version)
	if err != nil || string(removed.Value) != "4" || removed.Version != e4.Version {
		t.Fatalf("Remove = %+v, %v", removed, err)
	}
	if _, err := m.Remove(ctx, "c", 0); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Remove of an absent key: %v, want ErrNotFound", err)
	}
	if err := m.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Len(ctx); err != nil || n != 0 {
		t.Fatalf("Len after Clear = %d, %v", n, err)
	}
	e5, err := m.Put(ctx, "a/b", []byte("5"), 0)
	if err != nil || e5.Version <= e4.Version {
		t.Fatalf("Put after Clear = %+v, %v; versions must keep increasing", e5, err)
	}
}

func TestMapIDsAreIsolated(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	open := func(ns, name string) driver.Map {
		m, err := d.OpenMap(ctx, driver.ID{Namespace: ns, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a := open("ns1", "a")
	if _, err := a.Put(ctx, "k", []byte("a"), 0); err != nil {
		t.Fatal(err)
	}
	for _, other := range []driver.Map{open("ns10", "a"), open("ns1", "a/b"), open("ns1", "ab"), open("ns", "1a")} {
		if _, err := other.Put(ctx, "k", []byte("other"), 0); err != nil {
			t.Fatal(err)
		}
		if err := other.Clear(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := a.Len(ctx); err != nil || n != 1 {
		t.Fatalf("Len = %d, %v after writes to other maps; want 1", n, err)
	}
}

func TestMapValueLimit(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	m, _ := d.OpenMap(ctx, testID("big"))
	max := d.Limits().MaxValueSize
	key := string(bytes.Repeat([]byte{0xff}, d.Limits().MaxKeySize))
	if _, err := m.Put(ctx, key, bytes.Repeat([]byte("x"), max), 0); err != nil {
		t.Fatalf("Put of the largest key and value: %v", err)
	}
	if _, err := m.Update(ctx, key, bytes.Repeat([]byte("y"), max), 0); err != nil {
		t.Fatalf("Update of the largest key and value: %v", err)
	}
	_, err := m.Put(ctx, "k", bytes.Repeat([]byte("x"), 600<<10), 0)
	var se api.StatusError
	if !errors.Is(err, driver.ErrInvalid) || !errors.As(err, &se) || se.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("Put of a value above the agent's limit: %v, want ErrInvalid caused by the agent's 413", err)
	}
}

func TestMapWatch(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	m, _ := d.OpenMap(ctx, testID("w"))
	before, _ := m.Put(ctx, "old", []byte("0"), 0)
	ch := make(chan driver.EntryEvent)
	if err := m.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	e1, _ := m.Put(ctx, "k", []byte("1"), 0)
	want := func(typ driver.EventType, key, value string, version uint64) {
		t.Helper()
		ev := recvWithin(t, ch, 10*time.Second)
		if ev.Type != typ || ev.Entry.Key != key || string(ev.Entry.Value) != value || ev.Entry.Version != version {
			t.Fatalf("event %v %q=%q@%d, want %v %q=%q@%d", ev.Type, ev.Entry.Key, ev.Entry.Value, ev.Entry.Version, typ, key, value, version)
		}
	}
	want(driver.EventInserted, "k", "1", e1.Version)
	e2, _ := m.Put(ctx, "k", []byte("2"), 0)
	want(driver.EventUpdated, "k", "2", e2.Version)
	m.Remove(ctx, "k", 0)
	want(driver.EventRemoved, "k", "2", e2.Version)
	m.Clear(ctx)
	want(driver.EventRemoved, "old", "0", before.Version)

	// A watcher reading only later converges to the latest state.
	var last driver.Entry
	for i := range 50 {
		last, _ = m.Put(ctx, "fast", []byte(fmt.Sprint(i)), 0)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Entry.Version == last.Version {
				if string(ev.Entry.Value) != "49" {
					t.Fatalf("last event %+v", ev)
				}
				return
			}
		case <-deadline:
			t.Fatal("the watcher did not converge to the latest state")
		}
	}
}

func TestMapWatchEndsWithPrimitive(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	m, _ := d.OpenMap(ctx, testID("w"))
	ch := make(chan driver.EntryEvent)
	if err := m.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	m.Close(ctx)
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("event after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch channel not closed by Close")
	}
	if _, err := m.Get(ctx, "k"); !errors.Is(err, driver.ErrClosed) {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}
}
