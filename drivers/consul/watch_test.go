package consul

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// TestWatchResyncsAfterAgentRestartsEmpty restarts a -dev agent, whose
// index then starts again far below the one the watcher last saw: the
// watcher must not keep asking with its old index (which the agent would
// hold until it passed the old one, or WaitTime ended) but read afresh,
// and so converge to the new agent's state at once.
func TestWatchResyncsAfterAgentRestartsEmpty(t *testing.T) {
	ctx := testContext(t)
	agent := testbackend.StartConsulAgent(t)
	d := testDriverAt(t, agent.Addr(), testPrefix(t))
	m, err := d.OpenMap(ctx, testID("restart"))
	if err != nil {
		t.Fatal(err)
	}
	view := map[string]string{}
	// Twice as many writes before the restart as after it: the index the
	// watcher holds ends well above the new agent's.
	for round := range 2 {
		for i := range 20 {
			k, v := fmt.Sprintf("old%d", i), fmt.Sprint(round)
			if _, err := m.Put(ctx, k, []byte(v), 0); err != nil {
				t.Fatal(err)
			}
			view[k] = v
		}
	}
	ch := make(chan driver.EntryEvent, 100)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := m.Watch(wctx, ch); err != nil {
		t.Fatal(err)
	}

	agent.Restart()
	want := map[string]string{}
	for i := range 5 {
		k := fmt.Sprintf("new%d", i)
		putEventually(t, ctx, m, k, "new")
		want[k] = "new"
	}

	// Far below the 5 minutes the agent would hold a query with the old
	// index, far above what a resync takes even on a loaded machine.
	deadline := time.After(20 * time.Second)
	for !maps.Equal(view, want) {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("watch ended")
			}
			if ev.Type == driver.EventRemoved {
				delete(view, ev.Entry.Key)
			} else {
				view[ev.Entry.Key] = string(ev.Entry.Value)
			}
		case <-deadline:
			t.Fatalf("the watcher still sees keys %v, want %v", slices.Sorted(maps.Keys(view)), slices.Sorted(maps.Keys(want)))
		}
	}
}

// putEventually retries a Put while the agent is still coming up.
func putEventually(t *testing.T, ctx context.Context, m driver.Map, key, value string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := m.Put(ctx, key, []byte(value), 0)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Put %q after the restart: %v", key, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
