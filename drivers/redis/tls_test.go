package redis

import (
	"net/url"
	"testing"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// TestTLSFailuresAreClassified checks each way a TLS connection to Redis
// can fail against a real redis-server with TLS and client certificates:
// the set-ups every driver treats alike (testbackend.TLSCases: a server
// certificate that does not verify is ErrInvalid, a refused client
// certificate ErrPermission), and TLS against a plaintext server, which
// waits for the rest of an inline command, so the handshake ends at
// dial-timeout with ErrUnavailable. None is ambiguous: nothing was sent.
func TestTLSFailuresAreClassified(t *testing.T) {
	s := testbackend.StartRedisTLS(t)
	plain := testbackend.StartRedisServer(t)
	cases := append(s.TLSCases(), testbackend.TLSCase{
		Name: "TLS against a plaintext server",
		Addr: plain.Addr(),
		Query: url.Values{"ca-file": {s.CAFile}, "server-name": {s.ServerName},
			"dial-timeout": {"500ms"}},
		Want: driver.ErrUnavailable,
	})
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { testbackend.CheckTLSCase(t, SchemeTLS, c) })
	}
}
