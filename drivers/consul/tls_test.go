package consul

import (
	"net/url"
	"testing"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// TestTLSFailuresAreClassified checks each way an HTTPS connection to a
// real agent with verify_incoming can fail: the set-ups every driver treats
// alike (testbackend.TLSCases: a server certificate that does not verify
// is ErrInvalid, a refused client certificate ErrPermission), and TLS
// against a plaintext agent or plaintext against a TLS one, both
// ErrInvalid. None is ambiguous: the agent read no request.
func TestTLSFailuresAreClassified(t *testing.T) {
	s := testbackend.StartConsulTLS(t)
	plain := testbackend.StartConsulAgent(t)
	cases := append(s.TLSCases(),
		testbackend.TLSCase{
			Name:  "TLS against a plaintext agent",
			Addr:  plain.Addr(),
			Query: url.Values{"ca-file": {s.CAFile}, "server-name": {s.ServerName}},
			Want:  driver.ErrInvalid,
		},
		testbackend.TLSCase{Name: "plaintext against a TLS agent", Addr: s.Addr(), Want: driver.ErrInvalid},
	)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { testbackend.CheckTLSCase(t, Scheme, c) })
	}
}
