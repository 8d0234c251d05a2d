package testbackend

import "testing"

// TestFreePortIsForServersOnly: FreePort never returns a port the kernel
// may give an outgoing connection, nor the same port twice, so that
// nothing takes a port between FreePort and the server's bind.
func TestFreePortIsForServersOnly(t *testing.T) {
	first, last, ok := outgoingPorts()
	if !ok {
		t.Skip("the kernel's port range for outgoing connections is unknown here")
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
