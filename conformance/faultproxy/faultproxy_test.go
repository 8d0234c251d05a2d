package faultproxy_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/faultproxy"
)

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func start(t *testing.T) *faultproxy.Proxy {
	p, err := faultproxy.Start(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func dial(t *testing.T, p *faultproxy.Proxy) (net.Conn, *bufio.Reader) {
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, wait time.Duration) (string, error) {
	t.Helper()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	return r.ReadString('\n')
}

func TestForwardsAndCounts(t *testing.T) {
	p := start(t)
	c, r := dial(t, p)
	if got, err := roundTrip(t, c, r, 5*time.Second); err != nil || got != "ping\n" {
		t.Fatalf("round trip = %q, %v", got, err)
	}
	if up, down := p.Forwarded(); up != 5 || down != 5 {
		t.Fatalf("Forwarded = %d, %d; want 5, 5", up, down)
	}
}

func TestDropRepliesLetsRequestsThrough(t *testing.T) {
	p := start(t)
	c, r := dial(t, p)
	p.DropReplies(true)
	if _, err := roundTrip(t, c, r, 300*time.Millisecond); err == nil {
		t.Fatal("a reply came through while replies are dropped")
	}
	if up, _ := p.Forwarded(); up != 5 {
		t.Fatalf("request bytes forwarded = %d, want 5", up)
	}
	p.DropReplies(false)
	if got, err := roundTrip(t, c, r, 5*time.Second); err != nil || got != "ping\n" {
		t.Fatalf("round trip after DropReplies(false) = %q, %v", got, err)
	}
}

func TestBlackholeForwardsNothing(t *testing.T) {
	p := start(t)
	c, r := dial(t, p)
	p.Blackhole(true)
	if _, err := roundTrip(t, c, r, 300*time.Millisecond); err == nil {
		t.Fatal("a reply came through the blackhole")
	}
	if up, down := p.Forwarded(); up != 0 || down != 0 {
		t.Fatalf("Forwarded = %d, %d through a blackhole", up, down)
	}
}

func TestCutAndRefuse(t *testing.T) {
	p := start(t)
	c, r := dial(t, p)
	if _, err := roundTrip(t, c, r, 5*time.Second); err != nil { // the proxy has it now
		t.Fatal(err)
	}
	p.Cut()
	if _, err := roundTrip(t, c, r, 5*time.Second); err == nil {
		t.Fatal("a cut connection still answered")
	}
	p.Refuse(true)
	c2, r2 := dial(t, p) // accepted by the kernel, closed by the proxy
	if _, err := roundTrip(t, c2, r2, 5*time.Second); err == nil {
		t.Fatal("a refused connection answered")
	}
	p.Refuse(false)
	c3, r3 := dial(t, p)
	if got, err := roundTrip(t, c3, r3, 5*time.Second); err != nil || got != "ping\n" {
		t.Fatalf("round trip after Refuse(false) = %q, %v", got, err)
	}
}
