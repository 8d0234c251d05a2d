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
// came back.
type cuttingProxy struct {
	l      net.Listener
	target string

	mu    sync.Mutex
	armed bool // the next client->server chunk is the last one forwarded
	stall bool // server->client data is dropped
	conns []net.Conn
}

func newCuttingProxy(t *testing.T, target string) *cuttingProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttingProxy{l: l, target: target}
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
		p.mu.Unlock()
		go p.pump(s, c, true)
		go p.pump(c, s, false)
	}
}

// pump copies src to dst; toClient says which way it goes.
func (p *cuttingProxy) pump(dst, src net.Conn, toClient bool) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			dst.Close()
			return
		}
		p.mu.Lock()
		stall, cut := p.stall && toClient, p.armed && !toClient
		if cut {
			p.armed = false
			p.stall = true
		}
		p.mu.Unlock()
		if stall {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			src.Close()
			return
		}
		if cut {
			time.Sleep(200 * time.Millisecond) // let the server apply it
			p.cutAll()
		}
	}
}

// arm makes the proxy forward the next request and then break the
// connection without forwarding the reply.
func (p *cuttingProxy) arm() {
	p.mu.Lock()
	p.armed = true
	p.mu.Unlock()
}

// setStall drops (or stops dropping) replies.
func (p *cuttingProxy) setStall(on bool) {
	p.mu.Lock()
	p.stall = on
	p.mu.Unlock()
}

func (p *cuttingProxy) cutAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.stall = false
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

func proxiedDriver(t *testing.T) (*Driver, *cuttingProxy) {
	endpoint := testbackend.Etcd(t)[0]
	p := newCuttingProxy(t, strings.TrimPrefix(strings.TrimPrefix(endpoint, "http://"), "https://"))
	d, err := New(Config{Endpoints: []string{p.addr()}, Prefix: testPrefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(context.Background()) })
	return d, p
}

// TestLostReplyIsAmbiguous: a write whose connection breaks after it was
// sent is ErrAmbiguous (and may well have been applied); a read in the
// same situation is retried by clientv3.
func TestLostReplyIsAmbiguous(t *testing.T) {
	ctx := testContext(t)
	d, p := proxiedDriver(t)
	v, _ := d.OpenValue(ctx, driver.ID{Name: "v"})
	if _, err := v.Set(ctx, []byte("before"), 0); err != nil {
		t.Fatal(err)
	}
	p.arm()
	_, err := v.Set(ctx, []byte("during"), 0)
	if !errors.Is(err, driver.ErrAmbiguous) {
		t.Fatalf("Set whose reply was lost: %v, want ErrAmbiguous", err)
	}
	got, _, err := v.Get(ctx) // reconnects
	if err != nil {
		t.Fatalf("Get after the connection came back: %v", err)
	}
	if string(got) != "during" {
		t.Logf("the ambiguous write was not applied (value %q)", got)
	}
	p.arm()
	if _, _, err := v.Get(ctx); err != nil {
		t.Errorf("Get whose reply was lost: %v, want clientv3 to retry it", err)
	}
}

// TestDeadlineDuringWrite: a write whose context ends while it is in flight
// reports both the context's error and ErrAmbiguous.
func TestDeadlineDuringWrite(t *testing.T) {
	ctx := testContext(t)
	d, p := proxiedDriver(t)
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
