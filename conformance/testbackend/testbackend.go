// Package testbackend gives tests a real backend server: the address given
// in the environment, else a local binary started on a free loopback port
// (data in a temporary directory, stopped when the test ends), else the test
// is skipped with a message that says how to get the server, or fails when
// ATOMIX_REQUIRE_BACKENDS names the backend.
//
// Binaries are looked up on PATH and in ATOMIX_BIN_DIR (default
// $HOME/.cache/atomix/bin), where .ci/install-backends puts them.
package testbackend

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Required reports whether ATOMIX_REQUIRE_BACKENDS (a comma-separated list,
// or "all") names backend.
func Required(backend string) bool {
	for _, b := range strings.Split(os.Getenv("ATOMIX_REQUIRE_BACKENDS"), ",") {
		b = strings.TrimSpace(b)
		if b == backend || b == "all" {
			return true
		}
	}
	return false
}

// Unavailable skips the test, or fails it when the backend is required,
// explaining why the backend is missing and how to get it.
func Unavailable(t testing.TB, backend, why, howTo string) {
	t.Helper()
	msg := fmt.Sprintf("no %s server: %s; %s", backend, why, howTo)
	if Required(backend) {
		t.Fatalf("%s (required by ATOMIX_REQUIRE_BACKENDS)", msg)
	}
	t.Skip(msg)
}

// BinDir is where .ci/install-backends caches server binaries.
func BinDir() string {
	if d := os.Getenv("ATOMIX_BIN_DIR"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "atomix", "bin")
}

// FindBinary returns the path of the named server binary, looked up on PATH
// and then in BinDir, or "" when there is none.
func FindBinary(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if d := BinDir(); d != "" {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// a server the test is about to start. Between this check and the server's
// bind, nothing else in this process may take the port: FreePort never
// returns the same port twice in a process, and, where the kernel says
// which ports it gives to outgoing connections (Linux's
// net.ipv4.ip_local_port_range), it returns none of those, so that no
// client connection of any process can take it either. (A port the
// kernel picks for a listen on port 0 is one of those, and any connection
// may get it next: a Redis Cluster node in CI once failed with "bind:
// address already in use" on such a port.) Processes running side by side
// pick at random among the rest, each port checked with a bind.
func FreePort(t testing.TB) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	if lo, hi, ok := serverPorts(); ok {
		for range 1000 {
			p := lo + rand.IntN(hi-lo)
			if portsGiven[p] {
				continue
			}
			if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
				l.Close()
				portsGiven[p] = true
				return p
			}
		}
	}
	for range 1000 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testbackend: free port: %v", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !portsGiven[p] {
			portsGiven[p] = true
			return p
		}
	}
	t.Fatal("testbackend: free port: none left")
	return 0
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// minServerPort is the lowest port FreePort returns: below it are the
// ports that services tend to be configured on.
const minServerPort = 10000

// serverPorts returns the ports [lo, hi) that FreePort picks from: those
// from minServerPort up to the kernel's range for outgoing connections.
// It reports false where that range is unknown or leaves too few.
func serverPorts() (lo, hi int, ok bool) {
	first, _, ok := outgoingPorts()
	if !ok || first-minServerPort < 1000 {
		return 0, 0, false
	}
	return minServerPort, first, true
}

// outgoingPorts returns the kernel's range [first, last] of ports for
// outgoing connections (Linux's net.ipv4.ip_local_port_range), or false
// where it is unknown.
func outgoingPorts() (first, last int, ok bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, false
	}
	first, err1 := strconv.Atoi(f[0])
	last, err2 := strconv.Atoi(f[1])
	return first, last, err1 == nil && err2 == nil
}

var (
	shutdownMu sync.Mutex
	shutdowns  []func()
)

// OnShutdown registers f to run at Shutdown. Servers started for a test
// binary are shared by all its tests and stopped once, at the end.
func OnShutdown(f func()) {
	shutdownMu.Lock()
	defer shutdownMu.Unlock()
	shutdowns = append(shutdowns, f)
}

// Shutdown stops every server this process started, last started first.
// Call it from TestMain after m.Run.
func Shutdown() {
	shutdownMu.Lock()
	fs := shutdowns
	shutdowns = nil
	shutdownMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
