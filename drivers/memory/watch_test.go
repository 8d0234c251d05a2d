package memory

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

func TestWatchDeliversEveryEventInCommitOrderUnderConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	watched, _ := connect().OpenMap(ctx, id("m"))
	events := make(chan driver.EntryEvent) // unbuffered: the watcher sets the pace
	must(t, "watch", watched.Watch(ctx, events))

	const writers, writes = 4, 300
	var wg sync.WaitGroup
	for w := range writers {
		m, _ := connect().OpenMap(ctx, id("m"))
		wg.Go(func() {
			for i := range writes {
				key := "k" + strconv.Itoa(i%7)
				if _, err := m.Put(ctx, key, fmt.Appendf(nil, "%d/%d", w, i), 0); err != nil {
					t.Error(err)
					return
				}
				if i%5 == 4 {
					m.Remove(ctx, key, 0) // may find it gone: another writer's key space overlaps
				}
			}
		})
	}

	go func() {
		wg.Wait()
		watched.Put(ctx, "end", nil, 0) // the last event
	}()

	replay := map[string]driver.Entry{}
	var last uint64
	received := 0
	for done := false; !done; {
		select {
		case ev := <-events:
			received++
			done = ev.Entry.Key == "end"
			switch ev.Type {
			case driver.EventInserted, driver.EventUpdated:
				_, present := replay[ev.Entry.Key]
				if present != (ev.Type == driver.EventUpdated) {
					t.Fatalf("event %d: %v of key %q, present before: %v", received, ev.Type, ev.Entry.Key, present)
				}
				if ev.Entry.Version <= last {
					t.Fatalf("event %d: version %d after %d", received, ev.Entry.Version, last)
				}
				last = ev.Entry.Version
				replay[ev.Entry.Key] = ev.Entry
			case driver.EventRemoved:
				if replay[ev.Entry.Key].Version != ev.Entry.Version {
					t.Fatalf("event %d: removed %+v, had %+v", received, ev.Entry, replay[ev.Entry.Key])
				}
				delete(replay, ev.Entry.Key)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event for 10s after %d", received)
		}
	}
	for e, err := range watched.Entries(ctx) {
		must(t, "entries", err)
		if got := replay[e.Key]; got.Version != e.Version || string(got.Value) != string(e.Value) {
			t.Fatalf("replayed events give %+v for %q, the map has %+v", got, e.Key, e)
		}
		delete(replay, e.Key)
	}
	if len(replay) != 0 {
		t.Fatalf("replayed events have keys the map has not: %v", replay)
	}
	if received <= writers*writes {
		t.Fatalf("received %d events, want at least %d", received, writers*writes)
	}
}

func TestSlowWatcherNeverBlocksWriters(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	l, _ := connect().OpenList(ctx, id("l"))
	events := make(chan driver.ListEvent) // nobody reads until the writes are done
	must(t, "watch", l.Watch(ctx, events))
	const n = 10_000
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for i := range n {
			l.Append(ctx, []byte(strconv.Itoa(i)))
		}
	}()
	select {
	case <-wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("writers blocked on a watcher that does not read")
	}
	for i := range n {
		ev := recv(t, events)
		if ev.Type != driver.EventInserted || ev.Index != i || string(ev.Value) != strconv.Itoa(i) {
			t.Fatalf("event %d = %+v", i, ev)
		}
	}
}

func TestListEventsReplayToTheList(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	l, _ := connect().OpenList(ctx, id("l"))
	l.Append(ctx, []byte("before"))
	var replay []string
	for item, err := range l.Items(ctx) {
		must(t, "items", err)
		replay = append(replay, string(item))
	}
	events := make(chan driver.ListEvent, 100)
	must(t, "watch", l.Watch(ctx, events))
	l.Append(ctx, []byte("a"))
	l.Insert(ctx, 0, []byte("b"))
	l.Set(ctx, 1, []byte("c"))
	l.Remove(ctx, 2)
	l.Append(ctx, []byte("d"))
	want := []string{"b", "c", "d"}
	for range 5 {
		ev := recv(t, events)
		switch ev.Type {
		case driver.EventInserted:
			replay = slices.Insert(replay, ev.Index, string(ev.Value))
		case driver.EventUpdated:
			replay[ev.Index] = string(ev.Value)
		case driver.EventRemoved:
			replay = slices.Delete(replay, ev.Index, ev.Index+1)
		}
	}
	if !slices.Equal(replay, want) {
		t.Fatalf("replay %v, want %v", replay, want)
	}
	l.Clear(ctx)
	for range want {
		ev := recv(t, events)
		if ev.Type != driver.EventRemoved {
			t.Fatalf("clear sent %+v", ev)
		}
		replay = slices.Delete(replay, ev.Index, ev.Index+1)
	}
	if len(replay) != 0 {
		t.Fatalf("replay after clear: %v", replay)
	}
}

func TestWatchEventKinds(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()

	v, _ := d.OpenValue(ctx, id("v"))
	vev := make(chan driver.ValueEvent, 10)
	must(t, "watch value", v.Watch(ctx, vev))
	v1, _ := v.Set(ctx, []byte("1"), 0)
	v2, _ := v.Set(ctx, []byte("2"), 0)
	v.Delete(ctx, 0)
	for _, want := range []driver.ValueEvent{
		{Type: driver.EventInserted, Value: []byte("1"), Version: v1},
		{Type: driver.EventUpdated, Value: []byte("2"), Version: v2},
		{Type: driver.EventRemoved, Value: []byte("2"), Version: v2},
	} {
		got := recv(t, vev)
		if got.Type != want.Type || string(got.Value) != string(want.Value) || got.Version != want.Version {
			t.Fatalf("value event %+v, want %+v", got, want)
		}
	}

	s, _ := d.OpenSet(ctx, id("s"))
	sev := make(chan driver.ElementEvent, 10)
	must(t, "watch set", s.Watch(ctx, sev))
	s.Add(ctx, "a")
	s.Add(ctx, "a") // no change, no event
	s.Add(ctx, "b")
	s.Remove(ctx, "a")
	s.Clear(ctx)
	for _, want := range []driver.ElementEvent{
		{Type: driver.EventInserted, Element: "a"},
		{Type: driver.EventInserted, Element: "b"},
		{Type: driver.EventRemoved, Element: "a"},
		{Type: driver.EventRemoved, Element: "b"},
	} {
		if got := recv(t, sev); got != want {
			t.Fatalf("set event %+v, want %+v", got, want)
		}
	}

	m, _ := d.OpenMap(ctx, id("m"))
	mev := make(chan driver.EntryEvent, 10)
	must(t, "watch map", m.Watch(ctx, mev))
	m.Put(ctx, "a", []byte("1"), 0)
	m.Put(ctx, "b", []byte("2"), 0)
	m.Clear(ctx)
	recv(t, mev)
	recv(t, mev)
	removed := map[string]bool{}
	for range 2 {
		ev := recv(t, mev)
		if ev.Type != driver.EventRemoved {
			t.Fatalf("clear sent %+v", ev)
		}
		removed[ev.Entry.Key] = true
	}
	if !removed["a"] || !removed["b"] {
		t.Fatalf("clear removed %v", removed)
	}
}

func TestWatchChannelIsClosed(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)

	t.Run("when ctx ends", func(t *testing.T) {
		m, _ := connect().OpenMap(ctx, id("m"))
		wctx, cancel := context.WithCancel(ctx)
		ch := make(chan driver.EntryEvent)
		must(t, "watch", m.Watch(wctx, ch))
		m.Put(ctx, "k", nil, 0) // pending, unread
		cancel()
		drainUntilClosed(t, ch)
	})
	t.Run("before Close returns", func(t *testing.T) {
		m, _ := connect().OpenMap(ctx, id("m"))
		ch := make(chan driver.EntryEvent, 1)
		must(t, "watch", m.Watch(ctx, ch))
		m.Put(ctx, "k", nil, 0)
		m.Put(ctx, "k", nil, 0)
		must(t, "close", m.Close(ctx))
		assertClosedNow(t, ch)
		wantErr(t, "watch after close", m.Watch(ctx, make(chan driver.EntryEvent)), driver.ErrClosed)
		must(t, "second close", m.Close(ctx))
	})
	t.Run("when the driver closes", func(t *testing.T) {
		d := connect()
		e, _ := d.OpenElection(ctx, id("e"))
		ch := make(chan driver.Term)
		must(t, "watch", e.Watch(ctx, ch))
		must(t, "close", d.Close(ctx))
		assertClosedNow(t, ch)
	})
	t.Run("when the driver crashes", func(t *testing.T) {
		d := connect()
		v, _ := d.OpenValue(ctx, id("v"))
		ch := make(chan driver.ValueEvent)
		must(t, "watch", v.Watch(ctx, ch))
		d.Crash()
		assertClosedNow(t, ch)
	})
	t.Run("not when Watch fails", func(t *testing.T) {
		m, _ := connect().OpenMap(ctx, id("m"))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		ch := make(chan driver.EntryEvent, 1)
		wantErr(t, "watch with an ended ctx", m.Watch(cctx, ch), context.Canceled)
		ch <- driver.EntryEvent{} // would panic if closed
	})
}

func drainUntilClosed[E any](t *testing.T, ch <-chan E) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the watch channel was not closed")
		}
	}
}

// assertClosedNow fails unless ch is closed once its buffered events are
// read, without waiting.
func assertClosedNow[E any](t *testing.T, ch <-chan E) {
	t.Helper()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		default:
			t.Fatal("the watch channel is still open")
		}
	}
}
