package redis

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

// recvEvent receives one event or fails the test.
func recvEvent[E any](t *testing.T, ch <-chan E) E {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	panic("unreachable")
}

// requireQuiet fails the test if an event arrives within d.
func requireQuiet[E any](t *testing.T, ch <-chan E, d time.Duration) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("unexpected event %+v", e)
	case <-time.After(d):
	}
}

// sneakPut stores an entry in a map the way the map script does, but
// without publishing it: a change whose message is lost.
func sneakPut(t *testing.T, d *Driver, m *redisMap, key, value string) uint64 {
	t.Helper()
	ctx := testContext(t)
	v, err := d.client.Incr(ctx, m.keys.names[1]).Uint64()
	if err != nil {
		t.Fatal(err)
	}
	var h [8]byte
	binary.BigEndian.PutUint64(h[:], v)
	if err := d.client.HSet(ctx, m.keys.names[0], key, string(h[:])+value).Err(); err != nil {
		t.Fatal(err)
	}
	return v
}

func openTestMap(t *testing.T, d *Driver, id driver.ID) *redisMap {
	t.Helper()
	m, err := d.OpenMap(testContext(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*redisMap)
}

// TestWatchRecoversFromGap checks that a watcher that sees a sequence gap
// (a change whose message never arrived) reads the map again and sends the
// difference, before going on with the next change.
func TestWatchRecoversFromGap(t *testing.T) {
	ctx := testContext(t)
	writer, watcher := newTestDriver(t), newTestDriver(t)
	id := testID(t, "m")
	wm, m := openTestMap(t, writer, id), openTestMap(t, watcher, id)
	if _, err := wm.Put(ctx, "a", []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := wm.Put(ctx, "gone", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	ch := make(chan driver.EntryEvent, 100)
	if err := m.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	// Lost changes: an update, an insertion and a removal nobody hears of.
	sneakPut(t, writer, wm, "a", "2")
	sneakPut(t, writer, wm, "b", "3")
	if err := writer.client.HDel(ctx, wm.keys.names[0], "gone").Err(); err != nil {
		t.Fatal(err)
	}
	writer.client.Incr(ctx, wm.keys.names[1])
	// The next change is heard, and its sequence number shows the gap.
	e, err := wm.Put(ctx, "c", []byte("4"), 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 4 {
		ev := recvEvent(t, ch)
		got = append(got, fmt.Sprintf("%s %s=%s", ev.Type, ev.Entry.Key, ev.Entry.Value))
	}
	want := []string{"removed gone=x", "updated a=2", "inserted b=3", "inserted c=4"}
	if !slices.Equal(got, want) {
		t.Fatalf("events after a gap = %q, want %q", got, want)
	}
	requireQuiet(t, ch, 200*time.Millisecond)
	if v, err := m.Get(ctx, "c"); err != nil || v.Version != e.Version {
		t.Fatalf("Get = %+v, %v", v, err)
	}
}

// TestWatchRecoversFromDisconnect kills the watcher's pub/sub connection
// on the server: go-redis would reconnect and resubscribe silently, losing
// what was published meanwhile. The watcher must converge anyway.
func TestWatchRecoversFromDisconnect(t *testing.T) {
	ctx := testContext(t)
	writer, watcher := newTestDriver(t), newTestDriver(t)
	id := testID(t, "m")
	wm, m := openTestMap(t, writer, id), openTestMap(t, watcher, id)
	ch := make(chan driver.EntryEvent, 100)
	if err := m.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if _, err := wm.Put(ctx, "a", []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	if ev := recvEvent(t, ch); ev.Type != driver.EventInserted || ev.Entry.Key != "a" {
		t.Fatalf("event = %+v", ev)
	}
	// A change whose message is lost, then the connection drops. No later
	// change reveals the gap: only the reconnection can.
	sneakPut(t, writer, wm, "b", "2")
	if err := writer.client.Do(ctx, "client", "kill", "type", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	ev := recvEvent(t, ch)
	if ev.Type != driver.EventInserted || ev.Entry.Key != "b" || string(ev.Entry.Value) != "2" {
		t.Fatalf("event after reconnecting = %+v, want b=2 inserted", ev)
	}
	// And the watch goes on.
	if _, err := wm.Put(ctx, "c", []byte("3"), 0); err != nil {
		t.Fatal(err)
	}
	if ev := recvEvent(t, ch); ev.Type != driver.EventInserted || ev.Entry.Key != "c" {
		t.Fatalf("event = %+v, want c inserted", ev)
	}
}

// TestWatchClearSendsEachRemoval checks that a Clear, which ships nothing
// to anyone, reaches watchers as one removal per entry, from their copy.
func TestWatchClearSendsEachRemoval(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	id := testID(t, "m")
	m := openTestMap(t, d, id)
	for i := range 50 {
		if _, err := m.Put(ctx, fmt.Sprintf("k%02d", i), []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
	}
	ch := make(chan driver.EntryEvent, 100)
	if err := m.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	before, _ := d.client.Get(ctx, m.keys.names[1]).Uint64()
	if err := m.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		ev := recvEvent(t, ch)
		if ev.Type != driver.EventRemoved || ev.Entry.Key != fmt.Sprintf("k%02d", i) || string(ev.Entry.Value) != "v" {
			t.Fatalf("event %d = %+v", i, ev)
		}
	}
	requireQuiet(t, ch, 100*time.Millisecond)
	after, _ := d.client.Get(ctx, m.keys.names[1]).Uint64()
	if after != before+1 {
		t.Fatalf("Clear moved the version counter from %d to %d, want one step", before, after)
	}
	if err := m.Clear(ctx); err != nil { // empty: nothing published
		t.Fatal(err)
	}
	requireQuiet(t, ch, 100*time.Millisecond)
}

// TestWatchEndsWithContext checks that ch is closed when ctx ends and that
// the hub lets go of the channel.
func TestWatchEndsWithContext(t *testing.T) {
	d := newTestDriver(t)
	m := openTestMap(t, d, testID(t, "m"))
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan driver.EntryEvent)
	if err := m.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("event after cancel")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		d.hub.mu.Lock()
		n := len(d.hub.channels)
		d.hub.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub still has %d channels", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
