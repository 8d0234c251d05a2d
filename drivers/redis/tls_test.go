package redis

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

// TestTLSFailuresAreClassified checks each way a TLS connection to Redis
// can fail: a server certificate that does not verify is ErrInvalid (the
// configuration is wrong), a client certificate the server refuses, or
// none, is ErrPermission, and TLS against a plaintext server is
// ErrUnavailable once dial-timeout passes; each before the caller's
// deadline, never ErrAmbiguous (nothing was sent), and with the cause
// reachable. The right configuration works.
func TestTLSFailuresAreClassified(t *testing.T) {
	s := testbackend.StartRedisTLS(t)
	plain := testbackend.StartRedisServer(t)
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	good := q("ca-file", s.CAFile, "cert-file", s.CertFile, "key-file", s.KeyFile, "server-name", s.ServerName)

	ctx := testContext(t)
	d, err := driver.Open(ctx, "rediss://"+s.Addr()+"?"+good)
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
	}{
		{"server certificate from an unknown CA",
			"rediss://" + s.Addr() + "?" + q("ca-file", s.OtherCAFile, "cert-file", s.CertFile, "key-file", s.KeyFile, "server-name", s.ServerName),
			driver.ErrInvalid},
		{"server name not in the certificate",
			"rediss://" + s.Addr() + "?" + q("ca-file", s.CAFile, "cert-file", s.CertFile, "key-file", s.KeyFile),
			driver.ErrInvalid},
		{"client certificate from another CA",
			"rediss://" + s.Addr() + "?" + q("ca-file", s.CAFile, "cert-file", s.OtherCertFile, "key-file", s.OtherKeyFile, "server-name", s.ServerName),
			driver.ErrPermission},
		{"no client certificate",
			"rediss://" + s.Addr() + "?" + q("ca-file", s.CAFile, "server-name", s.ServerName),
			driver.ErrPermission},
		// A plaintext Redis waits for the rest of what it takes for an
		// inline command: the handshake times out after dial-timeout.
		{"TLS against a plaintext server",
			"rediss://" + plain.Addr() + "?" + q("ca-file", s.CAFile, "server-name", s.ServerName, "dial-timeout", "500ms"),
			driver.ErrUnavailable},
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
			for op, err := range map[string]error{
				"Ping":    d.Ping(ctx),
				"Map.Put": errOf(m.Put(ctx, "k", []byte("v"), 0)),
			} {
				if ctx.Err() != nil {
					t.Fatalf("%s: returned %v only when its context ended", op, err)
				}
				if !errors.Is(err, c.want) || errors.Is(err, driver.ErrAmbiguous) {
					t.Errorf("%s: %v, want %v and not ErrAmbiguous", op, err, c.want)
				}
			}
			if c.want == driver.ErrInvalid && c.name != "TLS against a plaintext server" {
				var unknown x509.UnknownAuthorityError
				var hostname x509.HostnameError
				if err := d.Ping(ctx); !errors.As(err, &unknown) && !errors.As(err, &hostname) {
					t.Errorf("Ping: %v: the x509 cause is not reachable", err)
				}
			}
		})
	}
}
