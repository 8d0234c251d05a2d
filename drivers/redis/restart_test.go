package redis

import (
	"context"
	"os/exec"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// ownServer runs a redis-server of the test's own, which the test may stop
// and start again on the same port.
type ownServer struct {
	t    *testing.T
	bin  string
	port int
	cmd  *exec.Cmd
}

func newOwnServer(t *testing.T) *ownServer {
	bin := testbackend.FindBinary("redis-server")
	if bin == "" {
		t.Skip("no redis-server binary")
	}
	s := &ownServer{t: t, bin: bin, port: testbackend.FreePort(t)}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *ownServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *ownServer) start() {
	s.cmd = exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.t.TempDir(), "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: s.addr()})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *ownServer) stop() {
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// TestWatchSurvivesServerRestart restarts the server (losing its data, as a
// server without persistence does): the watcher reconnects, backing off
// while the server is down, and converges to the new state.
func TestWatchSurvivesServerRestart(t *testing.T) {
	ctx := testContext(t)
	srv := newOwnServer(t)
	d, err := New(&goredis.UniversalOptions{Addrs: []string{srv.addr()}, ContextTimeoutEnabled: true}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	id := testID(t, "m")
	m := openTestMap(t, d, id)
	if _, err := m.Put(ctx, "old", []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	ch := make(chan driver.EntryEvent, 10)
	if err := m.Watch(ctx, ch); err != nil {
		t.Fatal(err)
	}
	srv.stop()
	time.Sleep(300 * time.Millisecond) // the hub fails to reconnect a few times
	srv.start()
	var e driver.Entry
	deadline := time.Now().Add(10 * time.Second)
	for {
		if e, err = m.Put(ctx, "new", []byte("2"), 0); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Put after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := map[string]driver.EventType{"old": driver.EventRemoved, "new": driver.EventInserted}
	for len(want) > 0 {
		ev := recvEvent(t, ch)
		if want[ev.Entry.Key] != ev.Type {
			t.Fatalf("unexpected event %v %q", ev.Type, ev.Entry.Key)
		}
		if ev.Entry.Key == "new" && ev.Entry.Version != e.Version {
			t.Fatalf("new entry version %d, want %d", ev.Entry.Version, e.Version)
		}
		delete(want, ev.Entry.Key)
	}
	requireQuiet(t, ch, 200*time.Millisecond)
}
