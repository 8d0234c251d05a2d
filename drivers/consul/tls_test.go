package consul

import (
	"context"
	"crypto/x509"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// TestTLSFailuresAreClassified checks each way an HTTPS connection to the
// agent can fail, as for every driver (driver.TLSFailure): a server
// certificate that does not verify is ErrInvalid, a client certificate the
// agent refuses (or none) is ErrPermission, TLS against a plaintext agent
// and plaintext against a TLS one are ErrInvalid; each at once, never
// ErrAmbiguous (nothing was sent), with the cause reachable. The right
// configuration works.
func TestTLSFailuresAreClassified(t *testing.T) {
	s := testbackend.StartConsulTLS(t)
	plain := testbackend.StartConsulAgent(t)
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	ctx := testContext(t)
	good := q("ca-file", s.CAFile, "cert-file", s.CertFile, "key-file", s.KeyFile, "server-name", s.ServerName)
	d, err := driver.Open(ctx, "consul://"+s.Addr()+"?"+good)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	if err := d.Ping(ctx); err != nil {
		t.Fatalf("Ping with the right certificates: %v", err)
	}

	for _, c := range []struct {
		name, url string
		want      error
		x509      bool
	}{
		{"server certificate from an unknown CA",
			"consul://" + s.Addr() + "?" + q("ca-file", s.OtherCAFile, "cert-file", s.CertFile, "key-file", s.KeyFile, "server-name", s.ServerName),
			driver.ErrInvalid, true},
		{"server name not in the certificate",
			"consul://" + s.Addr() + "?" + q("ca-file", s.CAFile, "cert-file", s.CertFile, "key-file", s.KeyFile),
			driver.ErrInvalid, true},
		{"client certificate from another CA",
			"consul://" + s.Addr() + "?" + q("ca-file", s.CAFile, "cert-file", s.OtherCertFile, "key-file", s.OtherKeyFile, "server-name", s.ServerName),
			driver.ErrPermission, false},
		{"no client certificate",
			"consul://" + s.Addr() + "?" + q("ca-file", s.CAFile, "server-name", s.ServerName),
			driver.ErrPermission, false},
		{"TLS against a plaintext agent",
			"consul://" + plain.Addr() + "?" + q("ca-file", s.CAFile, "server-name", s.ServerName),
			driver.ErrInvalid, false},
		{"plaintext against a TLS agent",
			"consul://" + s.Addr(),
			driver.ErrInvalid, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d, err := driver.Open(ctx, c.url)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close(context.Background())
			m, err := d.OpenMap(ctx, driver.ID{Namespace: "tls", Name: "m"})
			if err != nil {
				t.Fatal(err)
			}
			_, putErr := m.Put(ctx, "k", []byte("v"), 0)
			for op, err := range map[string]error{"Ping": d.Ping(ctx), "Map.Put": putErr} {
				if ctx.Err() != nil {
					t.Fatalf("%s: returned %v only when its context ended", op, err)
				}
				if !errors.Is(err, c.want) || errors.Is(err, driver.ErrAmbiguous) {
					t.Errorf("%s: %v, want %v and not ErrAmbiguous", op, err, c.want)
				}
			}
			if c.x509 {
				var unknown x509.UnknownAuthorityError
				var hostname x509.HostnameError
				if err := d.Ping(ctx); !errors.As(err, &unknown) && !errors.As(err, &hostname) {
					t.Errorf("Ping: %v: the x509 cause is not reachable", err)
				}
			}
		})
	}
}
