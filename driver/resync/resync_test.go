package resync_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/resync"
)

func TestEntriesReplayToTheNewState(t *testing.T) {
	e := func(k string, v, idx uint64) driver.Entry {
		return driver.Entry{Key: k, Value: []byte(fmt.Sprint(v)), Version: v, Index: idx}
	}
	old := map[string]driver.Entry{"a": e("a", 1, 0), "b": e("b", 2, 0), "c": e("c", 3, 1), "d": e("d", 4, 0)}
	next := map[string]driver.Entry{"a": e("a", 1, 0), "b": e("b", 9, 0), "c": e("c", 7, 5), "e": e("e", 8, 0)}
	got := resync.Entries(old, next)
	want := []driver.EntryEvent{
		{Type: driver.EventRemoved, Entry: old["c"]},
		{Type: driver.EventRemoved, Entry: old["d"]},
		{Type: driver.EventInserted, Entry: next["c"]},
		{Type: driver.EventInserted, Entry: next["e"]},
		{Type: driver.EventUpdated, Entry: next["b"]},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Entries =\n%v\nwant\n%v", got, want)
	}
	state := map[string]driver.Entry{}
	for k, v := range old {
		state[k] = v
	}
	for _, ev := range got {
		if ev.Type == driver.EventRemoved {
			delete(state, ev.Entry.Key)
		} else {
			state[ev.Entry.Key] = ev.Entry
		}
	}
	if fmt.Sprint(state) != fmt.Sprint(next) {
		t.Fatalf("replayed %v, want %v", state, next)
	}
}

func TestElements(t *testing.T) {
	got := resync.Elements(map[string]uint64{"x": 1, "y": 2, "z": 0}, map[string]uint64{"y": 2, "b": 9, "a": 4, "c": 4})
	want := []driver.ElementEvent{
		{Type: driver.EventRemoved, Element: "z"},
		{Type: driver.EventRemoved, Element: "x"},
		{Type: driver.EventInserted, Element: "a"},
		{Type: driver.EventInserted, Element: "c"},
		{Type: driver.EventInserted, Element: "b"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Elements = %v, want %v", got, want)
	}
}

func TestValue(t *testing.T) {
	v := func(s string, ver uint64) driver.ValueEvent { return driver.ValueEvent{Value: []byte(s), Version: ver} }
	for _, c := range []struct {
		old, next driver.ValueEvent
		want      string
	}{
		{driver.ValueEvent{}, driver.ValueEvent{}, "[]"},
		{driver.ValueEvent{}, v("a", 1), "[{inserted [97] 1}]"},
		{v("a", 1), v("b", 2), "[{updated [98] 2}]"},
		{v("a", 1), driver.ValueEvent{}, "[{removed [97] 1}]"},
		{v("a", 1), v("a", 1), "[]"},
	} {
		if got := fmt.Sprint(resync.Value(c.old, c.next)); got != c.want {
			t.Errorf("Value(%v, %v) = %s, want %s", c.old, c.next, got, c.want)
		}
	}
}

func TestListReplayToTheNewState(t *testing.T) {
	b := func(ss ...string) [][]byte {
		out := make([][]byte, len(ss))
		for i, s := range ss {
			out[i] = []byte(s)
		}
		return out
	}
	for _, c := range []struct{ old, next [][]byte }{
		{b(), b("a", "b")},
		{b("a", "b", "c"), b("a", "c")},
		{b("a", "b", "c"), b("x", "b", "c", "d")},
		{b("a", "b", "c", "d"), b("a", "d")},
		{b("a"), b()},
	} {
		state := slices.Clone(c.old)
		for _, ev := range resync.List(c.old, c.next) {
			switch ev.Type {
			case driver.EventInserted:
				state = slices.Insert(state, ev.Index, ev.Value)
			case driver.EventUpdated:
				state[ev.Index] = ev.Value
			case driver.EventRemoved:
				state = slices.Delete(state, ev.Index, ev.Index+1)
			}
		}
		if fmt.Sprintf("%s", state) != fmt.Sprintf("%s", c.next) {
			t.Errorf("List(%s, %s) replays to %s", c.old, c.next, state)
		}
	}
}
