package consul

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// The watch tests check what the driver promises for watches on a backend
// that reports states: whatever merged, the events received, applied in
// order to the state when the watch started, give the final state.

const convergenceWrites = 300

func TestMapWatchConverges(t *testing.T) {
	ctx := testContext(t)
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	writer, _ := testDriverAt(t, addr, prefix).OpenMap(ctx, testID("m"))
	watched, _ := testDriverAt(t, addr, prefix).OpenMap(ctx, testID("m"))
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 10 {
		writer.Put(ctx, fmt.Sprintf("k%d", i), []byte("before"), 0)
	}
	snapshot := func() map[string]driver.Entry {
		s := map[string]driver.Entry{}
		for e, err := range watched.Entries(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			s[e.Key] = e
		}
		return s
	}
	mirror := snapshot()
	ch := make(chan driver.EntryEvent, 16)
	if err := watched.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	for i := range convergenceWrites {
		key := fmt.Sprintf("k%d", rnd.IntN(12))
		switch rnd.IntN(10) {
		case 0:
			writer.Remove(ctx, key, 0)
		case 1:
			if rnd.IntN(10) == 0 {
				writer.Clear(ctx)
			}
		default:
			writer.Put(ctx, key, []byte(fmt.Sprint(i)), 0)
		}
	}
	want := snapshot()
	deadline := time.After(15 * time.Second)
	for !maps.EqualFunc(mirror, want, func(a, b driver.Entry) bool { return string(a.Value) == string(b.Value) && a.Version == b.Version }) {
		select {
		case ev := <-ch:
			was, present := mirror[ev.Entry.Key]
			switch ev.Type {
			case driver.EventInserted:
				if present {
					t.Fatalf("insertion of present key %q", ev.Entry.Key)
				}
				mirror[ev.Entry.Key] = ev.Entry
			case driver.EventUpdated:
				if !present || ev.Entry.Version <= was.Version {
					t.Fatalf("update of %q at %d over %+v (present %v)", ev.Entry.Key, ev.Entry.Version, was, present)
				}
				mirror[ev.Entry.Key] = ev.Entry
			case driver.EventRemoved:
				if !present || was.Version != ev.Entry.Version {
					t.Fatalf("removal of %+v over %+v (present %v)", ev.Entry, was, present)
				}
				delete(mirror, ev.Entry.Key)
			}
		case <-deadline:
			t.Fatalf("the events give %d keys, not the %d of the final state", len(mirror), len(want))
		}
	}
}

func TestListWatchConverges(t *testing.T) {
	ctx := testContext(t)
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	writer, _ := testDriverAt(t, addr, prefix).OpenList(ctx, testID("l"))
	watched, _ := testDriverAt(t, addr, prefix).OpenList(ctx, testID("l"))
	rnd := rand.New(rand.NewPCG(3, 4))
	items := func() []string {
		var s []string
		for v, err := range watched.Items(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			s = append(s, string(v))
		}
		return s
	}
	for i := range 5 {
		writer.Append(ctx, []byte(fmt.Sprint("before", i)))
	}
	mirror := items()
	ch := make(chan driver.ListEvent, 16)
	if err := watched.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	n := len(mirror)
	for i := range convergenceWrites {
		v := []byte(fmt.Sprint(i))
		switch op := rnd.IntN(10); {
		case n == 0 || op < 3:
			if writer.Insert(ctx, rnd.IntN(n+1), v) == nil {
				n++
			}
		case op < 5:
			if _, err := writer.Remove(ctx, rnd.IntN(n)); err == nil {
				n--
			}
		case op < 9:
			writer.Set(ctx, rnd.IntN(n), v)
		default:
			if rnd.IntN(5) == 0 && writer.Clear(ctx) == nil {
				n = 0
			}
		}
	}
	want := items()
	deadline := time.After(15 * time.Second)
	for !slices.Equal(mirror, want) {
		select {
		case ev := <-ch:
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
		case <-deadline:
			t.Fatalf("the events give %q, want %q", mirror, want)
		}
	}
}

func TestSetWatchConverges(t *testing.T) {
	ctx := testContext(t)
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	writer, _ := testDriverAt(t, addr, prefix).OpenSet(ctx, testID("s"))
	watched, _ := testDriverAt(t, addr, prefix).OpenSet(ctx, testID("s"))
	rnd := rand.New(rand.NewPCG(5, 6))
	elements := func() map[string]bool {
		s := map[string]bool{}
		for e, err := range watched.Elements(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			s[e] = true
		}
		return s
	}
	writer.Add(ctx, "e0")
	mirror := elements()
	ch := make(chan driver.ElementEvent, 16)
	if err := watched.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	for range convergenceWrites {
		e := fmt.Sprint("e", rnd.IntN(10))
		if rnd.IntN(2) == 0 {
			writer.Add(ctx, e)
		} else {
			writer.Remove(ctx, e)
		}
	}
	want := elements()
	deadline := time.After(15 * time.Second)
	for !maps.Equal(mirror, want) {
		select {
		case ev := <-ch:
			if (ev.Type == driver.EventInserted) == mirror[ev.Element] {
				t.Fatalf("%v of %q, present: %v", ev.Type, ev.Element, mirror[ev.Element])
			}
			if ev.Type == driver.EventInserted {
				mirror[ev.Element] = true
			} else {
				delete(mirror, ev.Element)
			}
		case <-deadline:
			t.Fatalf("the events give %v, want %v", mirror, want)
		}
	}
}

func TestIndexedMapWatchConverges(t *testing.T) {
	ctx := testContext(t)
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	writer, _ := testDriverAt(t, addr, prefix).OpenIndexedMap(ctx, testID("im"))
	watched, _ := testDriverAt(t, addr, prefix).OpenIndexedMap(ctx, testID("im"))
	rnd := rand.New(rand.NewPCG(7, 8))
	entries := func() []string {
		var s []string
		for e, err := range watched.Entries(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			s = append(s, fmt.Sprintf("%s@%d=%s", e.Key, e.Index, e.Value))
		}
		return s
	}
	mirror := map[string]driver.Entry{}
	ch := make(chan driver.EntryEvent, 16)
	if err := watched.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	for i := range convergenceWrites {
		key := fmt.Sprint("k", rnd.IntN(8))
		switch rnd.IntN(3) {
		case 0:
			writer.Append(ctx, key, []byte(fmt.Sprint(i)))
		case 1:
			writer.Update(ctx, key, []byte(fmt.Sprint(i)), 0)
		default:
			writer.Remove(ctx, key, 0)
		}
	}
	want := entries()
	sorted := func() []string {
		es := slices.SortedFunc(maps.Values(mirror), func(a, b driver.Entry) int { return int(a.Index) - int(b.Index) })
		var s []string
		for _, e := range es {
			s = append(s, fmt.Sprintf("%s@%d=%s", e.Key, e.Index, e.Value))
		}
		return s
	}
	deadline := time.After(15 * time.Second)
	for !slices.Equal(sorted(), want) {
		select {
		case ev := <-ch:
			if ev.Type == driver.EventRemoved {
				delete(mirror, ev.Entry.Key)
			} else {
				mirror[ev.Entry.Key] = ev.Entry
			}
		case <-deadline:
			t.Fatalf("the events give %q, want %q", sorted(), want)
		}
	}
}
