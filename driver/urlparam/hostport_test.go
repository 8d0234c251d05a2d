package urlparam

import (
	"errors"
	"strings"
	"testing"

	"github.com/atomix/go-client/driver"
)

func TestHostPort(t *testing.T) {
	for addr, want := range map[string]string{
		"h":           "h:2379",
		"h:":          "h:2379",
		"h:1":         "h:1",
		"h:65535":     "h:65535",
		"h:080":       "h:80",
		":7000":       ":7000",
		"10.0.0.1":    "10.0.0.1:2379",
		"[::1]":       "[::1]:2379",
		"[::1]:7000":  "[::1]:7000",
		"[fe80::1]:":  "[fe80::1]:2379",
		"example.com": "example.com:2379",
	} {
		got, err := HostPort(addr, 2379)
		if err != nil || got != want {
			t.Errorf("HostPort(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
}

// TestHostPortRefusesBadPorts checks that a port outside 1-65535, or one
// that is not a plain decimal number, is ErrInvalid naming the host.
func TestHostPortRefusesBadPorts(t *testing.T) {
	for _, addr := range []string{
		"h:0", "h:65536", "h:99999", "h:18446744073709551617", "h:-1", "h:+80",
		"h:x", "h:80x", "h: 80", "[::1]:0", "[::1]:65536",
	} {
		_, err := HostPort(addr, 2379)
		if !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("HostPort(%q) = %v; want ErrInvalid", addr, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "port") || !strings.Contains(msg, `"`) {
			t.Errorf("HostPort(%q): error %q does not name the host and the port", addr, msg)
		}
	}
	for _, addr := range []string{"", "a:b:c", "::1", "[::1", "[::1]x", "[::1]x:80"} {
		if _, err := HostPort(addr, 2379); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("HostPort(%q) = %v; want ErrInvalid", addr, err)
		}
	}
	long := strings.Repeat("h", 1<<20)
	_, err := HostPort(long+":0", 2379)
	if !errors.Is(err, driver.ErrInvalid) || len(err.Error()) > 300 {
		t.Errorf("HostPort(1 MiB host) = %.300v; want a short ErrInvalid", err)
	}
}
