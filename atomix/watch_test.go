package atomix_test

import (
	"context"
	"testing"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/election"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/set"
	"github.com/atomix/go-client/atomix/value"
)

// next reads one value from ch, failing on timeout or close.
func next[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	panic("unreachable")
}

// closed waits for ch to be closed, skipping what is still in it.
func closed[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("channel not closed within 5s")
		}
	}
}

func TestMapWatchFanOut(t *testing.T) {
	ctx := t.Context()
	c := atomix.WithClient(newClient(t))
	m, err := atomix.GetMap[string, int](ctx, "m", c)
	if err != nil {
		t.Fatal(err)
	}
	writer, err := atomix.GetMap[string, int](ctx, "m", c)
	if err != nil {
		t.Fatal(err)
	}

	slow := make(chan _map.Event[string, int]) // never read until the end
	fast := make(chan _map.Event[string, int])
	leaving := make(chan _map.Event[string, int])
	leaveCtx, leave := context.WithCancel(ctx)
	for _, w := range []struct {
		ctx context.Context
		ch  chan _map.Event[string, int]
	}{{ctx, slow}, {ctx, fast}, {leaveCtx, leaving}} {
		if err := m.Watch(w.ctx, w.ch); err != nil {
			t.Fatal(err)
		}
	}
	leave()
	closed(t, leaving)

	e1, err := writer.Put(ctx, "a", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Put(ctx, "a", 2, _map.IfVersion(e1.Version)); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Remove(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		typ _map.EventType
		val int
	}{{_map.EventInserted, 1}, {_map.EventUpdated, 2}, {_map.EventRemoved, 2}}
	for _, ch := range []chan _map.Event[string, int]{fast, slow} {
		for _, w := range want {
			ev := next(t, ch)
			if ev.Type != w.typ || ev.Entry.Key != "a" || ev.Entry.Value != w.val || ev.Entry.Version == 0 {
				t.Fatalf("got %+v, want %v a=%d", ev, w.typ, w.val)
			}
		}
	}
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	closed(t, fast)
	closed(t, slow)
	if err := m.Watch(ctx, make(chan _map.Event[string, int])); err == nil {
		t.Fatal("Watch on a closed map succeeded")
	}
}

func TestWatchUndecodableEventEndsWatch(t *testing.T) {
	ctx := t.Context()
	c := atomix.WithClient(newClient(t))
	typed, err := atomix.GetMap[string, int](ctx, "m", c)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := atomix.GetMap[string, string](ctx, "m", c)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan _map.Event[string, int], 10)
	if err := typed.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Put(ctx, "good", "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Put(ctx, "bad", "not json"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Entry.Key != "good" || ev.Entry.Value != 1 {
		t.Fatalf("got %+v", ev)
	}
	closed(t, ch)

	// A new watch starts from now and works.
	ch2 := make(chan _map.Event[string, int], 10)
	if err := typed.Watch(ctx, ch2); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Put(ctx, "good", "2"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch2); ev.Entry.Value != 2 {
		t.Fatalf("got %+v", ev)
	}
}

func TestWatchesOfEveryKind(t *testing.T) {
	ctx := t.Context()
	client := newClient(t)
	c := atomix.WithClient(client)

	s, _ := atomix.GetSet[int](ctx, "s", c)
	sch := make(chan set.Event[int], 4)
	if err := s.Watch(ctx, sch); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, sch); ev.Type != set.EventAdded || ev.Element != 7 {
		t.Fatalf("set: %+v", ev)
	}
	if ev := next(t, sch); ev.Type != set.EventRemoved || ev.Element != 7 {
		t.Fatalf("set: %+v", ev)
	}

	v, _ := atomix.GetValue[string](ctx, "v", c)
	vch := make(chan value.Event[string], 4)
	if err := v.Watch(ctx, vch); err != nil {
		t.Fatal(err)
	}
	ver, err := v.Set(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Delete(ctx, value.IfVersion(ver)); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, vch); ev.Type != value.EventCreated || ev.Value != "x" || ev.Version != ver {
		t.Fatalf("value: %+v", ev)
	}
	if ev := next(t, vch); ev.Type != value.EventDeleted || ev.Value != "x" {
		t.Fatalf("value: %+v", ev)
	}

	e, _ := client.GetElection(ctx, "e")
	ech := make(chan election.Event, 4)
	if err := e.Watch(ctx, ech); err != nil {
		t.Fatal(err)
	}
	term, err := e.Enter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ech); ev.Type != election.EventChanged || ev.Term.Leader != e.ID() || ev.Term.Term != term.Term {
		t.Fatalf("election: %+v", ev)
	}

	// Closing the client ends every watch.
	if err := client.Close(ctx); err != nil {
		t.Fatal(err)
	}
	closed(t, sch)
	closed(t, vch)
	closed(t, ech)
}
