package etcd

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// cuttingProxy forwards TCP connections to an etcd server and can break
// them the way a network does: after a request went out, before its reply
// came back. The test decides when to cut from what it can observe (the
// write applied on the server, a request forwarded), never from time.
type cuttingProxy struct {
	l      net.Listener
	target string

	mu      sync.Mutex
	stall   bool          // server->client data is dropped
	epoch   int           // incremented by cutAll; older connections forward nothing
	conns   []net.Conn    // of the current epoch
	sent    int           // client->server chunks forwarded so far
	changed chan struct{} // closed (and replaced) when sent grows
}

func newCuttingProxy(t *testing.T, target string) *cuttingProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttingProxy{l: l, target: target, changed: make(chan struct{})}
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.cutAll()
	})
	return p
}

func (p *cuttingProxy) addr() string { return p.l.Addr().String() }

func (p *cuttingProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		epoch := p.epoch
		p.mu.Unlock()
		go p.pump(c, s, epoch, true)
		go p.pump(s, c, epoch, false)
	}
}

// pump copies src to dst; toClient says which way it goes. Data of a
// connection cut since it was accepted is dropped, so nothing read before
// the cut reaches the other side after it.
func (p *cuttingProxy) pump(dst, src net.Conn, epoch int, toClient bool) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			dst.Close()
			return
		}
		p.mu.Lock()
		drop := epoch != p.epoch || p.stall && toClient
		p.mu.Unlock()
		if drop {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			src.Close()
			return
		}
		if !toClient {
			p.mu.Lock()
			p.sent++
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
		}
	}
}

// setStall drops (or stops dropping) replies.
func (p *cuttingProxy) setStall(on bool) {
	p.mu.Lock()
	p.stall = on
	p.mu.Unlock()
}

// forwarded returns how many client->server chunks were forwarded so far.
func (p *cuttingProxy) forwarded() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}

// waitForwarded waits until more than n client->server chunks were
// forwarded, or d passes, and reports which.
func (p *cuttingProxy) waitForwarded(n int, d time.Duration) bool {
	deadline := time.After(d)
	for {
		p.mu.Lock()
		sent, changed := p.sent, p.changed
		p.mu.Unlock()
		if sent > n {
			return true
		}
		select {
		case <-changed:
		case <-deadline:
			return false
		}
	}
}

// cutAll breaks every connection through the proxy without forwarding
// anything more on them, and stops stalling: new connections work.
func (p *cuttingProxy) cutAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.epoch++
	p.stall = false
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// proxiedDriver returns a driver whose connections go through a
// cuttingProxy, and a second driver on the same keys that connects to the
// server directly, to observe what the server applied.
func proxiedDriver(t *testing.T) (*Driver, *cuttingProxy, *Driver) {
	endpoint := testbackend.Etcd(t)[0]
	p := newCuttingProxy(t, strings.TrimPrefix(strings.TrimPrefix(endpoint, "http://"), "https://"))
	prefix := testPrefix(t)
	d, err := New(Config{Endpoints: []string{p.addr()}, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(context.Background()) })
	return d, p, newTestDriver(t, prefix)
}

// TestLostReplyIsAmbiguous: a write whose connection breaks after the
// server applied it, before its reply came back, is ErrAmbiguous; a read in
// the same situation is retried by clientv3.
func TestLostReplyIsAmbiguous(t *testing.T) {
	ctx := testContext(t)
	d, p, direct := proxiedDriver(t)
	v, _ := d.OpenValue(ctx, driver.ID{Name: "v"})
	if _, err := v.Set(ctx, []byte("before"), 0); err != nil {
		t.Fatal(err)
	}
	observer, _ := direct.OpenValue(ctx, driver.ID{Name: "v"})
	events := make(chan driver.ValueEvent, 16)
	if err := observer.Watch(ctx, events); err != nil {
		t.Fatal(err)
	}

	// The write: replies are dropped, so the Set cannot complete; once the
	// server has applied it (the unproxied watch sees it), cut.
	p.setStall(true)
	setErr := make(chan error, 1)
	go func() {
		_, err := v.Set(ctx, []byte("during"), 0)
		setErr <- err
	}()
	deadline := time.After(10 * time.Second)
	for applied := false; !applied; {
		select {
		case ev := <-events:
			applied = string(ev.Value) == "during"
		case err := <-setErr:
			t.Fatalf("Set returned %v with every reply dropped", err)
		case <-deadline:
			t.Fatal("the server did not apply the Set within 10s")
		}
	}
	p.cutAll()
	select {
	case err := <-setErr:
		if !errors.Is(err, driver.ErrAmbiguous) {
			t.Fatalf("Set whose reply was lost: %v, want ErrAmbiguous", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Set still in flight 10s after its connection was cut")
	}
	got, _, err := v.Get(ctx) // reconnects
	if err != nil || string(got) != "during" {
		t.Fatalf("Get after the connection came back = %q, %v; want the applied write %q", got, err, "during")
	}

	// The read: replies are dropped; once the proxy forwarded what the
	// client sent after the Get started, cut. clientv3 retries the read on
	// a new connection.
	p.setStall(true)
	sent := p.forwarded()
	type result struct {
		value []byte
		err   error
	}
	getResult := make(chan result, 1)
	go func() {
		value, _, err := v.Get(ctx)
		getResult <- result{value, err}
	}()
	if !p.waitForwarded(sent, 10*time.Second) {
		t.Fatal("the Get was not sent within 10s")
	}
	p.cutAll()
	select {
	case r := <-getResult:
		if r.err != nil || string(r.value) != "during" {
			t.Errorf("Get whose reply was lost = %q, %v; want clientv3 to retry it", r.value, r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Get whose reply was lost still in flight 30s after the cut")
	}
}

// TestDeadlineDuringWrite: a write whose context ends while it is in flight
// reports both the context's error and ErrAmbiguous.
func TestDeadlineDuringWrite(t *testing.T) {
	ctx := testContext(t)
	d, p, _ := proxiedDriver(t)
	m, _ := d.OpenMap(ctx, driver.ID{Name: "m"})
	if _, err := m.Put(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	p.setStall(true)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err := m.Put(short, "k", []byte("w"), 0)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, driver.ErrAmbiguous) {
		t.Errorf("Put past its deadline: %v, want context.DeadlineExceeded and ErrAmbiguous", err)
	}
	short2, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	_, err = m.Get(short2, "k")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrAmbiguous) {
		t.Errorf("Get past its deadline: %v, want context.DeadlineExceeded only", err)
	}
	p.cutAll()
	done, cancel3 := context.WithCancel(ctx)
	cancel3()
	if _, err := m.Put(done, "k", []byte("x"), 0); !errors.Is(err, context.Canceled) || errors.Is(err, driver.ErrAmbiguous) {
		t.Errorf("Put with a context already cancelled: %v, want context.Canceled only (nothing was sent)", err)
	}
}

// TestOversizedRequestIsInvalid: requests over the server's or the
// client's size limit are ErrInvalid, and nothing is written.
func TestOversizedRequestIsInvalid(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	m, _ := d.OpenMap(ctx, driver.ID{Name: "m"})
	for _, size := range []int{1600 << 10, 3 << 20} {
		if _, err := m.Put(ctx, "big", make([]byte, size), 0); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("Put of %d bytes: %v, want ErrInvalid", size, err)
		}
	}
	if _, err := m.Get(ctx, "big"); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("Get after refused Puts: %v, want ErrNotFound", err)
	}
	if _, err := m.Put(ctx, "max", make([]byte, MaxValueSize), 0); err != nil {
		t.Errorf("Put of MaxValueSize: %v", err)
	}
	im, _ := d.OpenIndexedMap(ctx, driver.ID{Name: "im"})
	e, err := im.Append(ctx, strings.Repeat("k", MaxKeySize), make([]byte, MaxValueSize))
	if err != nil {
		t.Fatalf("IndexedMap.Append of the largest key and value: %v", err)
	}
	if _, err := im.Update(ctx, e.Key, make([]byte, MaxValueSize), 0); err != nil {
		t.Errorf("IndexedMap.Update of the largest value: %v", err)
	}
}

func TestClosedDriver(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	c, _ := d.OpenCounter(ctx, driver.ID{Name: "c"})
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx); !errors.Is(err, driver.ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
	if _, err := d.OpenMap(ctx, driver.ID{Name: "m"}); !errors.Is(err, driver.ErrClosed) {
		t.Errorf("OpenMap after Close: %v, want ErrClosed", err)
	}
	if _, err := d.NewSession(ctx, driver.SessionOptions{}); !errors.Is(err, driver.ErrClosed) {
		t.Errorf("NewSession after Close: %v, want ErrClosed", err)
	}
	if err := d.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
