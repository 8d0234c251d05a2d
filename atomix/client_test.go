package atomix_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atomix/go-client/atomix"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/memory"
)

// recordingDriver is a memory driver that records the sessions it starts.
type recordingDriver struct {
	driver.Driver
	mu       sync.Mutex
	sessions []driver.Session
	ttls     []time.Duration
}

func (d *recordingDriver) NewSession(ctx context.Context, o driver.SessionOptions) (driver.Session, error) {
	s, err := d.Driver.NewSession(ctx, o)
	if err == nil {
		d.mu.Lock()
		d.sessions = append(d.sessions, s)
		d.ttls = append(d.ttls, o.TTL)
		d.mu.Unlock()
	}
	return s, err
}

func (d *recordingDriver) started() []driver.Session {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]driver.Session(nil), d.sessions...)
}

func TestCloseClosesEverything(t *testing.T) {
	ctx := t.Context()
	store := memory.NewStore()
	c := atomix.NewClient(atomix.WithDriver(store.Connect()))

	l, err := c.GetLock(ctx, "l")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	e, err := c.GetElection(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Enter(ctx); err != nil {
		t.Fatal(err)
	}
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan _map.Event[string, string])
	if err := m.Watch(ctx, events); err != nil {
		t.Fatal(err)
	}
	counter, err := c.GetCounter(ctx, "n")
	if err != nil {
		t.Fatal(err)
	}

	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// The watch ended, the hold was lost, every use is ErrClosed.
	select {
	case _, ok := <-events:
		if ok {
			t.Fatal("unexpected event")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch channel not closed by Client.Close")
	}
	select {
	case <-l.Lost():
	default:
		t.Fatal("Lost not closed by Client.Close")
	}
	if _, err := counter.Get(ctx); !errors.Is(err, atomix.ErrClosed) {
		t.Errorf("counter after Close: %v", err)
	}
	if _, err := m.Put(ctx, "k", "v"); !errors.Is(err, atomix.ErrClosed) {
		t.Errorf("map after Close: %v", err)
	}
	if _, err := c.GetCounter(ctx, "n"); !errors.Is(err, atomix.ErrClosed) {
		t.Errorf("getter after Close: %v", err)
	}
	if err := counter.Close(ctx); err != nil {
		t.Errorf("closing a primitive of a closed client: %v", err)
	}

	// Another client sees the lock free and the candidacy withdrawn.
	other := atomix.NewClient(atomix.WithDriver(store.Connect()))
	defer other.Close(ctx)
	l2, err := other.GetLock(ctx, "l")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := l2.TryLock(ctx); err != nil || !ok {
		t.Fatalf("lock still held after its client closed: %v %v", ok, err)
	}
	e2, err := other.GetElection(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	term, err := e2.GetTerm(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(term.Candidates) != 0 {
		t.Fatalf("candidacy survived its client's Close: %+v", term)
	}
}

func TestPrimitiveCloseIsIdempotentAndFinal(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	n, err := c.GetCounter(ctx, "n")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err = n.Increment(ctx, 1)
	wantErr(t, err, atomix.ErrClosed, `atomix: counter "n" (memory): increment: closed`)
	// The client opens a new instance of the same name.
	n2, err := c.GetCounter(ctx, "n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n2.Increment(ctx, 1); err != nil {
		t.Fatal(err)
	}
}

func TestOneSessionPerClient(t *testing.T) {
	ctx := t.Context()
	d := &recordingDriver{Driver: memory.New()}
	c := atomix.NewClient(atomix.WithDriver(d), atomix.WithSessionTTL(3*time.Second))
	defer c.Close(ctx)

	// No session until a lock or an election needs one.
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	l1, err := c.GetLock(ctx, "l1")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.started()); n != 0 {
		t.Fatalf("%d sessions before any lock or election was used", n)
	}

	l2, err := c.GetLock(ctx, "l2")
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.GetElection(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, f := range []func() error{
		func() error { _, err := l1.Lock(ctx); return err },
		func() error { _, err := l2.Lock(ctx); return err },
		func() error { _, err := e.Enter(ctx); return err },
	} {
		wg.Go(func() {
			if err := f(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	sessions := d.started()
	if len(sessions) != 1 {
		t.Fatalf("%d sessions for one client, want 1", len(sessions))
	}
	if d.ttls[0] != 3*time.Second {
		t.Fatalf("session TTL %v, want the WithSessionTTL value 3s", d.ttls[0])
	}

	// When the session ends, the next use starts a new session.
	if err := sessions[0].Close(ctx); err != nil {
		t.Fatal(err)
	}
	l3, err := c.GetLock(ctx, "l3")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l3.Lock(ctx); err != nil {
		t.Fatalf("Lock after the session ended: %v", err)
	}
	sessions = d.started()
	if len(sessions) != 2 {
		t.Fatalf("%d sessions after the first ended, want 2", len(sessions))
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sessions[1].Done():
	default:
		t.Fatal("Client.Close did not close the session")
	}
}

func TestDefaultSessionTTL(t *testing.T) {
	ctx := t.Context()
	d := &recordingDriver{Driver: memory.New()}
	c := atomix.NewClient(atomix.WithDriver(d))
	defer c.Close(ctx)
	l, err := c.GetLock(ctx, "l")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.TryLock(ctx); err != nil {
		t.Fatal(err)
	}
	if d.ttls[0] != atomix.DefaultSessionTTL || atomix.DefaultSessionTTL != 15*time.Second {
		t.Fatalf("TTL %v, want 15s", d.ttls[0])
	}
}

func TestNamespacesSeparateState(t *testing.T) {
	ctx := t.Context()
	store := memory.NewStore()
	a := atomix.NewClient(atomix.WithDriver(store.Connect()), atomix.WithNamespace("a"))
	defer a.Close(ctx)
	b := atomix.NewClient(atomix.WithDriver(store.Connect()), atomix.WithNamespace("b"))
	defer b.Close(ctx)
	a2 := atomix.NewClient(atomix.WithDriver(store.Connect()), atomix.WithNamespace("a"))
	defer a2.Close(ctx)
	ca, _ := a.GetCounter(ctx, "n")
	cb, _ := b.GetCounter(ctx, "n")
	ca2, _ := a2.GetCounter(ctx, "n")
	if _, err := ca.Increment(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if v, _ := cb.Get(ctx); v != 0 {
		t.Fatalf("namespace b sees %d", v)
	}
	if v, _ := ca2.Get(ctx); v != 5 {
		t.Fatalf("namespace a from another client sees %d, want 5", v)
	}
}

// TestDefaultClient runs its scenarios in child processes: the default
// client is process-wide and opened once.
func TestDefaultClient(t *testing.T) {
	if scenario := os.Getenv("ATOMIX_TEST_DEFAULT_CLIENT"); scenario != "" {
		defaultClientScenario(t, scenario)
		return
	}
	for _, tc := range []struct{ scenario, url string }{
		{"unset", ""},
		{"bad", "nosuch://x"},
		{"good", "mem://default-client-test"},
		{"namespaced", "mem://default-client-ns?namespace=tenant-a&session-ttl=3s"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestDefaultClient$", "-test.v")
			cmd.Env = append(os.Environ(), "ATOMIX_TEST_DEFAULT_CLIENT="+tc.scenario, "ATOMIX_URL="+tc.url)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("scenario %s: %v\n%s", tc.scenario, err, out)
			}
		})
	}
}

func defaultClientScenario(t *testing.T, scenario string) {
	ctx := t.Context()
	switch scenario {
	case "unset":
		for kind, get := range map[string]func() error{
			"counter":    func() error { _, err := atomix.GetCounter(ctx, "n"); return err },
			"lock":       func() error { _, err := atomix.GetLock(ctx, "l"); return err },
			"election":   func() error { _, err := atomix.GetElection(ctx, "e"); return err },
			"map":        func() error { _, err := atomix.GetMap[string, int](ctx, "m"); return err },
			"set":        func() error { _, err := atomix.GetSet[string](ctx, "s"); return err },
			"value":      func() error { _, err := atomix.GetValue[string](ctx, "v"); return err },
			"list":       func() error { _, err := atomix.GetList[string](ctx, "l"); return err },
			"indexedmap": func() error { _, err := atomix.GetIndexedMap[string, int](ctx, "i"); return err },
		} {
			err := get()
			wantErr(t, err, atomix.ErrInvalid, "ATOMIX_URL", "etcd://127.0.0.1:2379", "redis://127.0.0.1:6379",
				"consul://127.0.0.1:8500", "mem://", "import", "atomix.WithClient")
			if !strings.HasPrefix(err.Error(), "atomix: "+kind+" ") {
				t.Errorf("%s: %v", kind, err)
			}
		}
	case "bad":
		for range 2 { // a failed open is retried, and fails again
			_, err := atomix.GetCounter(ctx, "n")
			wantErr(t, err, atomix.ErrInvalid, "ATOMIX_URL", "nosuch")
		}
	case "namespaced":
		// namespace= in ATOMIX_URL applies to the default client.
		n, err := atomix.GetCounter(ctx, "n")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Increment(ctx, 7); err != nil {
			t.Fatal(err)
		}
		in, err := atomix.Open(ctx, "mem://default-client-ns", atomix.WithNamespace("tenant-a"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := in.GetCounter(ctx, "n")
		if err != nil {
			t.Fatal(err)
		}
		if v, err := m.Get(ctx); err != nil || v != 7 {
			t.Fatalf("the counter in namespace tenant-a = %d, %v; want 7 (the default client ignored namespace=)", v, err)
		}
	case "good":
		n, err := atomix.GetCounter(ctx, "n")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Increment(ctx, 2); err != nil {
			t.Fatal(err)
		}
		// A second getter uses the same client, hence the same store.
		n2, err := atomix.GetCounter(ctx, "n")
		if err != nil {
			t.Fatal(err)
		}
		if v, err := n2.Get(ctx); err != nil || v != 2 {
			t.Fatalf("got %d, %v; want 2", v, err)
		}
		_ = n.Close(ctx)
		_ = n2.Close(ctx)
		// A lock of the default client is bound to that client's session.
		l, err := atomix.GetLock(ctx, "l")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Lock(ctx); err != nil {
			t.Fatalf("Lock through the default client: %v", err)
		}
		if ok, err := l.Unlock(ctx); err != nil || !ok {
			t.Fatalf("Unlock = %v, %v", ok, err)
		}
		_ = l.Close(ctx)
	default:
		t.Fatalf("unknown scenario %q", scenario)
	}
}
