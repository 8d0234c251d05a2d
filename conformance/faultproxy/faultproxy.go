// Package faultproxy is a TCP proxy that breaks connections the ways a
// network does, for fault tests: it cuts every connection, drops the
// server's replies (so a request arrives but its answer never does),
// blackholes traffic both ways (so a client looks paused to the server),
// and refuses new connections.
//
// It listens on a loopback port and forwards to one target address. Tests
// wait for what the proxy has forwarded (Forwarded) rather than sleeping.
package faultproxy

import (
	"net"
	"sync"
	"sync/atomic"
)

// Proxy forwards TCP connections from Addr to a target. Its methods are safe
// for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string

	dropReplies atomic.Bool
	blackhole   atomic.Bool
	refuse      atomic.Bool

	toServer atomic.Int64 // bytes forwarded client → server
	toClient atomic.Int64 // bytes forwarded server → client

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Start listens on a free loopback port and forwards every connection to
// target (host:port).
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the host:port clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Close stops listening, cuts every connection and waits for the proxy's
// goroutines to end.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

// Cut closes every open connection, both sides, at once. New connections
// are accepted as before (unless Refuse is on).
func (p *Proxy) Cut() {
	p.mu.Lock()
	conns := p.conns
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

// DropReplies makes the proxy read the server's replies and throw them away
// (on) or forward them again (off). Requests still reach the server.
func (p *Proxy) DropReplies(on bool) { p.dropReplies.Store(on) }

// Blackhole makes the proxy forward nothing either way while the
// connections stay open (on), as a paused or partitioned client; off
// resumes forwarding. Data read meanwhile is lost.
func (p *Proxy) Blackhole(on bool) { p.blackhole.Store(on) }

// Refuse makes the proxy close new connections at once (on), as a server
// that is down; off accepts them again.
func (p *Proxy) Refuse(on bool) { p.refuse.Store(on) }

// Forwarded returns the bytes forwarded so far to the server and to the
// client (counted as the proxy starts writing them).
func (p *Proxy) Forwarded() (toServer, toClient int64) {
	return p.toServer.Load(), p.toClient.Load()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.refuse.Load() {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		p.conns[c], p.conns[s] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pump(s, c, &p.toServer, nil)
		go p.pump(c, s, &p.toClient, &p.dropReplies)
	}
}

// pump copies src to dst, counting into n, dropping data while drop (if
// non-nil) or the blackhole is on. It closes both ends when either fails.
func (p *Proxy) pump(dst, src net.Conn, n *atomic.Int64, drop *atomic.Bool) {
	defer p.wg.Done()
	defer func() {
		src.Close()
		dst.Close()
		p.mu.Lock()
		delete(p.conns, src)
		delete(p.conns, dst)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		k, err := src.Read(buf)
		if k > 0 && !p.blackhole.Load() && (drop == nil || !drop.Load()) {
			// Counted before it is written, so that whoever sees the
			// data arrive also sees it counted.
			n.Add(int64(k))
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
