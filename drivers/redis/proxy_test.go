package redis

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultyProxy forwards TCP connections to a Redis server and can be told to
// lose the server's replies, as a network that fails after a request was
// sent would.
type faultyProxy struct {
	addr   string
	target string
	ln     net.Listener
	// mute: replies are read from the server and thrown away.
	mute atomic.Bool
	// reset: the next reply is thrown away and its connection closed,
	// as a connection reset after the server applied a request would.
	reset atomic.Bool

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
	// lost counts the replies thrown away (muted or reset): each is proof
	// that the server answered, so applied, the request it answers.
	lost        int
	lostChanged chan struct{} // closed (and replaced) when lost grows
}

func newFaultyProxy(t *testing.T, target string) *faultyProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &faultyProxy{addr: ln.Addr().String(), target: target, ln: ln, lostChanged: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *faultyProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
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
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(s, c)
			// Half-close: the server still answers what it was sent, and
			// the reply is read (and counted if thrown away) before the
			// server's side closes.
			s.(*net.TCPConn).CloseWrite()
		}()
		go func() {
			defer p.wg.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 && p.reset.CompareAndSwap(true, false) {
					p.addLost()
					break
				}
				if n > 0 && p.mute.Load() {
					p.addLost()
				} else if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			c.Close()
			s.Close()
		}()
	}
}

func (p *faultyProxy) addLost() {
	p.mu.Lock()
	p.lost++
	close(p.lostChanged)
	p.lostChanged = make(chan struct{})
	p.mu.Unlock()
}

// lostReplies returns how many replies were thrown away so far.
func (p *faultyProxy) lostReplies() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lost
}

// waitLost waits until more than n replies were thrown away, that is until
// the server answered a request whose reply was lost, failing t after d.
func (p *faultyProxy) waitLost(t *testing.T, n int, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		p.mu.Lock()
		lost, changed := p.lost, p.lostChanged
		p.mu.Unlock()
		if lost > n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("the server did not answer the request whose reply is lost within %v", d)
		}
	}
}

// cut closes every connection through the proxy.
func (p *faultyProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *faultyProxy) close() {
	p.ln.Close()
	p.cut()
	p.wg.Wait()
}
