package etcd

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/atomix/go-client/driver"
)

// TestCloseLeavesNoGoroutines: closing a driver that has sessions, a held
// lock, a waiting watch of every kind and a lost-reply cleanup in flight
// ends every goroutine it started (and clientv3's).
func TestCloseLeavesNoGoroutines(t *testing.T) {
	ctx := testContext(t)
	prefix := testPrefix(t)
	warm := newTestDriver(t, prefix) // start the server and warm up shared state first
	c, _ := warm.OpenCounter(ctx, driver.ID{Name: "c"})
	if _, err := c.Get(ctx); err != nil { // connects
		t.Fatal(err)
	}
	baseline := goleak.IgnoreCurrent()

	d, err := New(Config{Endpoints: warm.client.Endpoints(), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSession(t, d, 0)
	id := driver.ID{Name: "x"}
	l, _ := d.OpenLock(ctx, id)
	if _, err := l.Acquire(ctx, s, "owner"); err != nil {
		t.Fatal(err)
	}
	e, _ := d.OpenElection(ctx, id)
	if _, err := e.Enter(ctx, s, "me"); err != nil {
		t.Fatal(err)
	}
	m, _ := d.OpenMap(ctx, id)
	if err := m.Watch(ctx, make(chan driver.EntryEvent)); err != nil {
		t.Fatal(err)
	}
	if err := e.Watch(ctx, make(chan driver.Term)); err != nil {
		t.Fatal(err)
	}
	lst, _ := d.OpenList(ctx, id)
	if err := lst.Watch(ctx, make(chan driver.ListEvent)); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Put(ctx, "k", []byte("v"), 0); err != nil { // the watch blocks sending it
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var err2 error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err2 = goleak.Find(baseline); err2 == nil {
			return
		}
	}
	t.Errorf("goroutines left after Close: %v", err2)
}
