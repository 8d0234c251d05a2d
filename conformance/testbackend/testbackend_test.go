package testbackend

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestFreePortIsForServersOnly: FreePort never returns a port the kernel
// may give an outgoing connection, nor the same port twice, so that
// nothing takes a port between FreePort and the server's bind.
func TestFreePortIsForServersOnly(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Skip("the kernel's port range for outgoing connections is unknown here")
	}
	f := strings.Fields(string(b))
	first, err1 := strconv.Atoi(f[0])
	last, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		t.Fatalf("ip_local_port_range: %q", b)
	}
	given := map[int]bool{}
	for range 300 {
		p := FreePort(t)
		if p >= first && p <= last {
			t.Fatalf("FreePort returned %d, in [%d, %d], where any outgoing connection may take it", p, first, last)
		}
		if given[p] {
			t.Fatalf("FreePort returned %d twice", p)
		}
		given[p] = true
	}
}
