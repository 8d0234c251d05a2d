package etcd

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/chunklist"
)

func nextEvent[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	return receive(t, ch, "a watch event")
}

func noEvent[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("unexpected event %+v", ev)
		}
	case <-time.After(200 * time.Millisecond):
	}
}

// TestWatchResyncsAfterCompaction makes a map watch start from a revision
// that has been compacted, as happens when a watcher was disconnected
// while the cluster compacted, and checks that it sends the difference and
// then follows live changes.
func TestWatchResyncsAfterCompaction(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	dm, _ := d.OpenMap(ctx, driver.ID{Name: "m"})
	m := dm.(*etcdMap)
	for _, k := range []string{"keep", "change", "remove"} {
		if _, err := m.Put(ctx, k, []byte(k), 0); err != nil {
			t.Fatal(err)
		}
	}
	state, rev, err := m.snapshot(ctx, m.prefix, m.end)
	if err != nil {
		t.Fatal(err)
	}
	// While "disconnected": changes, then a compaction past them.
	m.Put(ctx, "change", []byte("changed"), 0)
	m.Remove(ctx, "remove", 0)
	m.Put(ctx, "add", []byte("added"), 0)
	m.Put(ctx, "add", []byte("added twice"), 0)
	last, err := m.Get(ctx, "add")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rawClient(t).Compact(ctx, int64(last.Version), clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}

	ch := make(chan driver.EntryEvent, 10)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := m.watcher(ch)
		w.finish = func() {}
		m.runWatch(wctx, m.prefix, m.end, state, rev, w)
	}()
	// The difference: removals first, then writes in commit order.
	want := []struct {
		typ   driver.EventType
		key   string
		value string
	}{
		{driver.EventRemoved, "remove", "remove"},
		{driver.EventUpdated, "change", "changed"},
		{driver.EventInserted, "add", "added twice"},
	}
	for _, w := range want {
		ev := nextEvent(t, ch)
		if ev.Type != w.typ || ev.Entry.Key != w.key || string(ev.Entry.Value) != w.value {
			t.Errorf("resync event = %v %q=%q, want %v %q=%q", ev.Type, ev.Entry.Key, ev.Entry.Value, w.typ, w.key, w.value)
		}
	}
	// Then live changes.
	m.Put(ctx, "live", []byte("x"), 0)
	if ev := nextEvent(t, ch); ev.Type != driver.EventInserted || ev.Entry.Key != "live" {
		t.Errorf("live event = %+v", ev)
	}
	noEvent(t, ch)
	cancel()
	receive(t, done, "the watch loop to end")
}

// TestListWatchShifts: each Insert, Remove, Set and Append is reported as
// one event of its kind, not as the writes that shifted the items, and the
// events reproduce the list. (Where equal items neighbour the change, the
// index may be any that gives the same list.)
func TestListWatchShifts(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	l, _ := d.OpenList(ctx, driver.ID{Name: "l"})
	for _, v := range []string{"a", "b", "a"} {
		if _, err := l.Append(ctx, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	ch := make(chan driver.ListEvent, 10)
	if err := l.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	model := []string{"a", "b", "a"}
	apply := func(ev driver.ListEvent) {
		switch ev.Type {
		case driver.EventInserted:
			model = slices.Insert(model, ev.Index, string(ev.Value))
		case driver.EventUpdated:
			model[ev.Index] = string(ev.Value)
		case driver.EventRemoved:
			if model[ev.Index] != string(ev.Value) {
				t.Errorf("removal of %q at %d, but the item there is %q", ev.Value, ev.Index, model[ev.Index])
			}
			model = slices.Delete(model, ev.Index, ev.Index+1)
		}
	}
	items := func() []string {
		t.Helper()
		var items []string
		for v, err := range l.Items(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, string(v))
		}
		return items
	}
	expect := func(what string, want ...driver.ListEvent) {
		t.Helper()
		for _, w := range want {
			ev := nextEvent(t, ch)
			if ev.Type != w.Type || string(ev.Value) != string(w.Value) {
				t.Errorf("%s: event %v %d %q, want %v %q", what, ev.Type, ev.Index, ev.Value, w.Type, w.Value)
			}
			apply(ev)
		}
		noEvent(t, ch)
		if got := items(); !slices.Equal(got, model) {
			t.Errorf("%s: Items = %q, but the events give %q", what, got, model)
		}
	}
	ev := func(typ driver.EventType, i int, v string) driver.ListEvent {
		return driver.ListEvent{Type: typ, Index: i, Value: []byte(v)}
	}
	if err := l.Insert(ctx, 0, []byte("x")); err != nil {
		t.Fatal(err)
	}
	expect("Insert at 0", ev(driver.EventInserted, 0, "x"))
	if err := l.Insert(ctx, 2, []byte("a")); err != nil { // [x a a b a]: equal neighbours
		t.Fatal(err)
	}
	expect("Insert at 2", ev(driver.EventInserted, 2, "a"))
	if got, err := l.Remove(ctx, 1); err != nil || string(got) != "a" {
		t.Fatalf("Remove(1) = %q, %v", got, err)
	}
	expect("Remove at 1", ev(driver.EventRemoved, 1, "a"))
	if _, err := l.Set(ctx, 3, []byte("z")); err != nil {
		t.Fatal(err)
	}
	expect("Set at 3", ev(driver.EventUpdated, 3, "z"))
	if _, err := l.Remove(ctx, 3); err != nil {
		t.Fatal(err)
	}
	expect("Remove the last", ev(driver.EventRemoved, 3, "z"))
	if _, err := l.Append(ctx, []byte("y")); err != nil {
		t.Fatal(err)
	}
	expect("Append", ev(driver.EventInserted, 3, "y"))
	if err := l.Insert(ctx, 4, []byte("w")); err != nil {
		t.Fatal(err)
	}
	expect("Insert at the end", ev(driver.EventInserted, 4, "w"))
	n := len(model)
	if err := l.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		apply(nextEvent(t, ch))
	}
	if len(model) != 0 {
		t.Errorf("after Clear the events leave %q", model)
	}
}

// TestListChunks: the list is chunked, so an Insert at the front of more
// items than one etcd transaction may hold works (it failed with ErrInvalid
// when every item was a key of its own and an Insert moved them all), the
// chunks stay within their bounds, and items near MaxValueSize, which a
// chunk of small items cannot take, get chunks of their own.
func TestListChunks(t *testing.T) {
	ctx := testContext(t)
	prefix := testPrefix(t)
	d := newTestDriver(t, prefix)
	l, _ := d.OpenList(ctx, driver.ID{Name: "l"})
	var model [][]byte
	for i := 0; i < 300; i++ {
		if _, err := l.Append(ctx, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		model = append(model, []byte{byte(i)})
	}
	raw := rawClient(t)
	dirKey := rootKey(prefix, kindList, driver.ID{Name: "l"}) + "/d"
	readDir := func() *chunklist.Dir {
		t.Helper()
		resp, err := raw.Get(ctx, dirKey)
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("reading the directory: %v", err)
		}
		dir, err := chunklist.DecodeDir(resp.Kvs[0].Value)
		if err != nil {
			t.Fatal(err)
		}
		return dir
	}
	if dir := readDir(); len(dir.Chunks) != 3 {
		t.Errorf("300 appended items are in %d chunks, want 3 full ones but the last", len(dir.Chunks))
	}
	for i := 0; i < 300; i++ {
		if err := l.Insert(ctx, 0, []byte("x")); err != nil {
			t.Fatalf("Insert at the front of %d items: %v", len(model), err)
		}
		model = slices.Insert(model, 0, []byte("x"))
	}
	big := bytes.Repeat([]byte("b"), MaxValueSize-64)
	for _, at := range []int{1, 301, 302, len(model)} {
		if err := l.Insert(ctx, at, big); err != nil {
			t.Fatalf("Insert of a %d-byte item at %d: %v", len(big), at, err)
		}
		model = slices.Insert(model, at, big)
	}
	var got [][]byte
	for it, err := range l.Items(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, it)
	}
	if !slices.EqualFunc(got, model, bytes.Equal) {
		t.Fatalf("Items differ from the model (%d items, want %d)", len(got), len(model))
	}
	dir := readDir()
	if dir.Total != int64(len(model)) {
		t.Errorf("the directory counts %d items, want %d", dir.Total, len(model))
	}
	for _, c := range dir.Chunks {
		if c.N > maxChunkItems {
			t.Errorf("chunk %d holds %d items, more than %d", c.ID, c.N, maxChunkItems)
		}
		if c.N < maxChunkItems/4 && c.N > 1 {
			t.Logf("chunk %d holds %d items", c.ID, c.N)
		}
	}
	// Half full at least, but for the big items and a small run on either
	// side of each.
	if len(dir.Chunks) > 2*len(model)/maxChunkItems+1+3*4 {
		t.Errorf("%d chunks for %d items: the chunks are not kept half full", len(dir.Chunks), len(model))
	}
}
