package atomix_test

import (
	"context"
	"errors"
	"testing"

	"github.com/atomix/go-client/atomix"
	_map "github.com/atomix/go-client/atomix/map"
)

// TestWatchRefusesChannelInUse checks that a channel a live watch feeds is
// refused, with ErrInvalid, by a second Watch on the same instance and on
// another instance of the same client, instead of being closed twice (a
// panic) when both watches end.
func TestWatchRefusesChannelInUse(t *testing.T) {
	ctx := t.Context()
	c := atomix.WithClient(newClient(t))
	m1, err := atomix.GetMap[string, int](ctx, "m", c)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := atomix.GetMap[string, int](ctx, "m", c)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan _map.Event[string, int], 10)
	if err := m1.Watch(wctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := m1.Watch(ctx, ch); !errors.Is(err, atomix.ErrInvalid) {
		t.Errorf("second Watch on the same map = %v; want ErrInvalid", err)
	}
	if err := m2.Watch(ctx, ch); !errors.Is(err, atomix.ErrInvalid) {
		t.Errorf("Watch on another map of the same client = %v; want ErrInvalid", err)
	}
	if _, err := m2.Put(ctx, "k", 1); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Entry.Key != "k" {
		t.Errorf("event for key %q, want k", ev.Entry.Key)
	}
	cancel()
	closed(t, ch)
	for _, m := range []_map.Map[string, int]{m1, m2} {
		if err := m.Close(ctx); err != nil {
			t.Error(err)
		}
	}
}
