package redis

import (
	"encoding/binary"
	"math"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// Pub/sub messages are not authenticated: anyone allowed to PUBLISH on a
// primitive's channel can forge one. These tests publish forged messages
// with a raw client on the channels the scripts use and check that the
// watchers neither crash nor keep what was never stored.

// be64 and be32 encode the integers of a change message.
func be64(v uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return string(b[:])
}

func be32(v uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return string(b[:])
}

// forge publishes msg on h's channel, prefixed with the sequence number
// after the counter's current value (the next one a watcher expects),
// and returns that number.
func forge(t *testing.T, d *Driver, h *handle, seqKey, msg string) uint64 {
	t.Helper()
	ctx := testContext(t)
	cur, err := d.client.Get(ctx, seqKey).Uint64()
	if err != nil && err != goredis.Nil {
		t.Fatal(err)
	}
	if err := d.client.Publish(ctx, h.ks.channel(), be64(cur+1)+msg).Err(); err != nil {
		t.Fatal(err)
	}
	return cur + 1
}

// TestWatchForgedListIndex publishes a list insertion at index 2^63, which
// converted to int is negative: the watcher's goroutine must not panic
// (slices.Insert at a negative index), and must go on with the genuine
// changes.
func TestWatchForgedListIndex(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	lst, err := d.OpenList(ctx, testID(t, "l"))
	if err != nil {
		t.Fatal(err)
	}
	l := lst.(*list)
	ch := make(chan driver.ListEvent, 10)
	if err := l.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"I", "U", "R"} {
		forge(t, d, l.handle, l.keys.names[1], op+be64(1<<63)+"forged")
		forge(t, d, l.handle, l.keys.names[1], op+be64(math.MaxUint64)+"forged")
	}
	if _, err := l.Append(ctx, []byte("real")); err != nil {
		t.Fatal(err)
	}
	ev := recvEvent(t, ch)
	if ev.Type != driver.EventInserted || ev.Index != 0 || string(ev.Value) != "real" {
		t.Fatalf("event = %+v, want the insertion of \"real\" at 0", ev)
	}
	requireQuiet(t, ch, 100*time.Millisecond)
}

// TestWatchForgedElectionCount publishes an election change claiming
// 2^32-1 candidates in a message that holds none: the watcher must refuse
// it without allocating for the claimed count, and go on with the genuine
// changes.
func TestWatchForgedElectionCount(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	e := openTestElection(t, d, testID(t, "e"))
	el := e.(*election)
	s := newSessionT(t, d)
	if _, err := e.Enter(ctx, s, "a"); err != nil {
		t.Fatal(err)
	}
	ch := make(chan driver.Term, 10)
	if err := e.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	forge(t, d, el.handle, el.keys.names[3], be64(2)+be64(1000)+be32(math.MaxUint32))
	if _, err := e.Enter(ctx, s, "b"); err != nil {
		t.Fatal(err)
	}
	for {
		tm := recvEvent(t, ch)
		if len(tm.Candidates) == 2 {
			if tm.Leader != "a" || tm.Candidates[1] != "b" {
				t.Fatalf("term = %+v", tm)
			}
			return
		}
		if tm.Leader != "a" || len(tm.Candidates) != 1 {
			t.Fatalf("term = %+v, want a's term", tm)
		}
	}
}

// TestWatchForgedMapNextSeq publishes a map update with the next sequence
// number, then makes a genuine write, which gets that number: the
// watcher must end with the value stored, not the forged one.
func TestWatchForgedMapNextSeq(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	m := openTestMap(t, d, testID(t, "m"))
	if _, err := m.Put(ctx, "a", []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	// Unbuffered: the watcher waits to send the forged update while the
	// genuine write is made, so the counter has reached the forged number
	// when the watcher checks it, and only the genuine message, with the
	// same number and version, tells the forged one apart.
	ch := make(chan driver.EntryEvent)
	if err := m.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	forge(t, d, m.handle, m.keys.names[1], "U"+be32(1)+"a"+"forged")
	put, err := m.Put(ctx, "a", []byte("2"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if ev := recvEvent(t, ch); string(ev.Entry.Value) != "forged" {
		t.Fatalf("first event = %+v, want the forged update", ev)
	}
	seen := map[string]driver.Entry{}
	for {
		ev := recvEvent(t, ch)
		seen[ev.Entry.Key] = ev.Entry
		if ev.Entry.Key == "a" && ev.Entry.Version == put.Version && string(ev.Entry.Value) == "2" {
			break
		}
	}
	// Nothing else may change a: a write to another key is the next event
	// about anything.
	if _, err := m.Put(ctx, "z", []byte("sync"), 0); err != nil {
		t.Fatal(err)
	}
	for ev := recvEvent(t, ch); ev.Entry.Key != "z"; ev = recvEvent(t, ch) {
		seen[ev.Entry.Key] = ev.Entry
	}
	if a := seen["a"]; string(a.Value) != "2" || a.Version != put.Version {
		t.Fatalf("the watcher's last event for a is %+v, want the stored %+v", a, put)
	}
}

// TestWatchForgedMapNeverStored publishes a map update with the next
// sequence number and writes nothing: the watcher must find that the
// server never made that change and go back to the stored value.
func TestWatchForgedMapNeverStored(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	m := openTestMap(t, d, testID(t, "m"))
	stored, err := m.Put(ctx, "a", []byte("1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan driver.EntryEvent, 100)
	if err := m.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	forge(t, d, m.handle, m.keys.names[1], "U"+be32(1)+"a"+"forged")
	if ev := recvEvent(t, ch); string(ev.Entry.Value) != "forged" {
		t.Fatalf("first event = %+v, want the forged update", ev)
	}
	ev := recvEvent(t, ch)
	if ev.Type != driver.EventUpdated || ev.Entry.Key != "a" || string(ev.Entry.Value) != "1" || ev.Entry.Version != stored.Version {
		t.Fatalf("event = %+v, want a back to its stored %+v", ev, stored)
	}
	requireQuiet(t, ch, 100*time.Millisecond)
}

// TestWatchForgedValueNextSeq publishes a value change with the next
// sequence number while the genuine Set that gets that number is made:
// the watcher must end with the stored value.
func TestWatchForgedValueNextSeq(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	vv, _ := d.OpenValue(ctx, testID(t, "v"))
	v := vv.(*value)
	ch := make(chan driver.ValueEvent) // see TestWatchForgedMapNextSeq
	if err := v.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	forge(t, d, v.handle, v.keys.names[1], "Iforged")
	ver, err := v.Set(ctx, []byte("real"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if ev := recvEvent(t, ch); string(ev.Value) != "forged" {
		t.Fatalf("first event = %+v, want the forged insertion", ev)
	}
	ev := recvEvent(t, ch)
	if ev.Type != driver.EventUpdated || string(ev.Value) != "real" || ev.Version != ver {
		t.Fatalf("event = %+v, want the stored value at version %d", ev, ver)
	}
	requireQuiet(t, ch, 100*time.Millisecond)
}

// TestWatchForgedValueAndSet checks that forged messages inconsistent with
// the copy (an insertion of what is there, the removal of what is not)
// and forged numbers never stored leave a value's and a set's watchers at
// the stored state.
func TestWatchForgedValueAndSet(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	id := testID(t, "x")
	vv, _ := d.OpenValue(ctx, id)
	ss, _ := d.OpenSet(ctx, id)
	v, s := vv.(*value), ss.(*set)
	vch := make(chan driver.ValueEvent, 10)
	sch := make(chan driver.ElementEvent, 10)
	if err := v.Watch(ctx, vch); err != nil {
		t.Fatal(err)
	}
	if err := s.Watch(ctx, sch); err != nil {
		t.Fatal(err)
	}
	forge(t, d, v.handle, v.keys.names[1], "R")        // nothing to remove
	forge(t, d, v.handle, v.keys.names[1], "Uforged")  // nothing to update
	forge(t, d, s.handle, s.keys.names[1], "Rabsent")  // not a member
	forge(t, d, s.handle, s.keys.names[1], "C")        // nothing to clear
	forge(t, d, s.handle, s.keys.names[1], "X")        // unknown
	forge(t, d, v.handle, v.keys.names[1], "Iforged")  // consistent, never stored
	forge(t, d, s.handle, s.keys.names[1], "Iphantom") // consistent, never stored
	ver, err := v.Set(ctx, []byte("real"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, "real"); err != nil {
		t.Fatal(err)
	}
	for {
		ev := recvEvent(t, vch)
		if string(ev.Value) == "real" && ev.Version == ver {
			break
		}
	}
	requireQuiet(t, vch, 100*time.Millisecond)
	members := map[string]bool{}
	for !members["real"] {
		ev := recvEvent(t, sch)
		members[ev.Element] = ev.Type != driver.EventRemoved
	}
	if members["phantom"] {
		t.Fatal("the set watcher kept an element that was never stored")
	}
}

// TestHoldNotGoneOnForgedRelease publishes the version of a live hold on
// its lock's channel, as a release would: the holder must read the hold
// and keep its Gone open; the genuine release then closes it.
func TestHoldNotGoneOnForgedRelease(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	counter := &scriptCounter{}
	d.client.AddHook(counter)
	l := openTestLock(t, d, testID(t, "l"))
	h, err := l.Acquire(ctx, newSessionT(t, d), "a")
	if err != nil {
		t.Fatal(err)
	}
	before := counter.n.Load()
	if err := d.client.Publish(ctx, l.(*lock).ks.channel(), strconv.FormatUint(h.Version, 10)).Err(); err != nil {
		t.Fatal(err)
	}
	// The holder reads the hold when it hears its version (or, wrongly,
	// closes Gone at once).
	deadline := time.Now().Add(10 * time.Second)
	for counter.n.Load() == before && !closedWithin(h.Gone, 0) {
		if time.Now().After(deadline) {
			t.Fatal("the holder did not read the hold after hearing its version")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if closedWithin(h.Gone, 200*time.Millisecond) {
		t.Fatal("a forged release closed the Gone of a live hold")
	}
	if ok, err := l.Release(ctx, "a", h.Version); err != nil || !ok {
		t.Fatalf("Release = %v, %v", ok, err)
	}
	if !closedWithin(h.Gone, 5*time.Second) {
		t.Fatal("Gone not closed by the release")
	}
}
