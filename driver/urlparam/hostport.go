package urlparam

import (
	"net"
	"strconv"
	"strings"

	"github.com/atomix/go-client/driver"
)

// maxShownHost is the most bytes of a host an error shows.
const maxShownHost = 64

// HostPort returns addr, one address of a driver URL ("host", "host:port",
// "[ipv6]" or "[ipv6]:port"), as "host:port", with defaultPort when addr has
// no port or an empty one ("host:"). The host may be empty (":port").
//
// It is an error wrapping driver.ErrInvalid when addr is empty or
// malformed (an IPv6 address must be in brackets), or when its port is not
// a decimal number from 1 to 65535. url.Parse checks only that the last
// port of the host part is made of digits, so "h:99999" or the first port of
// "h1:x,h2:1" reach a driver unchecked. The error of a bad port names the
// host (cut to 64 bytes) but not the port; the error of a malformed address
// shows none of it, since it may be a query value, which urlparam never
// shows. HostPort is never given the user information.
func HostPort(addr string, defaultPort int) (string, error) {
	if addr == "" {
		return "", driver.Errorf(driver.ErrInvalid, "empty address")
	}
	var host, port string
	if strings.HasPrefix(addr, "[") {
		end := strings.IndexByte(addr, ']')
		if end < 0 {
			return "", driver.Errorf(driver.ErrInvalid, "malformed address: no ']' closes the IPv6 address")
		}
		host = addr[1:end]
		rest := addr[end+1:]
		if rest != "" && rest[0] != ':' {
			return "", driver.Errorf(driver.ErrInvalid, "malformed address: the IPv6 address in brackets is followed by something other than :port")
		}
		port = strings.TrimPrefix(rest, ":")
	} else {
		if strings.Count(addr, ":") > 1 {
			return "", driver.Errorf(driver.ErrInvalid, "malformed address (an IPv6 address goes in brackets)")
		}
		host, port, _ = strings.Cut(addr, ":")
	}
	if port == "" {
		port = strconv.Itoa(defaultPort)
	}
	// ParseUint, unlike Atoi, refuses a sign.
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return "", invalidAddr(host, "port out of range: want a number from 1 to 65535")
	}
	return net.JoinHostPort(host, strconv.FormatUint(n, 10)), nil
}

// invalidAddr returns the error of a bad address naming host.
func invalidAddr(host, reason string) error {
	if len(host) > maxShownHost {
		return driver.Errorf(driver.ErrInvalid, "host %q…(%d bytes): %s", host[:maxShownHost], len(host), reason)
	}
	return driver.Errorf(driver.ErrInvalid, "host %q: %s", host, reason)
}
