package etcd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/conformance"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// These tests run on the TLS etcd server of testbackend.EtcdSecure: client
// certificates required, authentication on, and a certificate that names
// only "etcd.test", never 127.0.0.1.

// secureDialTimeout is the DialTimeout of the TLS tests: a failure must be
// reported well before it, which tells a prompt answer from a wait for the
// deadline on any machine.
const secureDialTimeout = time.Minute

// secureConfig returns a Config that the TLS server accepts, as root.
func secureConfig(s *testbackend.EtcdTLS) Config {
	return Config{
		Endpoints:   []string{s.Endpoint},
		CAFile:      s.CAFile,
		CertFile:    s.CertFile,
		KeyFile:     s.KeyFile,
		ServerName:  s.ServerName,
		Username:    s.RootUser,
		Password:    s.RootPassword,
		DialTimeout: secureDialTimeout,
	}
}

func closeOnCleanup(t testing.TB, d *Driver) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d.Close(ctx)
	})
}

func mustNew(t testing.TB, cfg Config) *Driver {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	closeOnCleanup(t, d)
	return d
}

// TestServerName checks that ServerName, and the URL's server-name, is the
// name checked in the server's certificate although the endpoint is
// 127.0.0.1, and that without it the certificate does not verify.
func TestServerName(t *testing.T) {
	s := testbackend.EtcdSecure(t)
	d := mustNew(t, secureConfig(s))
	if err := d.Ping(testContext(t)); err != nil {
		t.Fatalf("Ping with ServerName %q: %v", s.ServerName, err)
	}

	q := url.Values{"ca-file": {s.CAFile}, "cert-file": {s.CertFile}, "key-file": {s.KeyFile},
		"server-name": {s.ServerName}, "dial-timeout": {secureDialTimeout.String()}}
	u := &url.URL{Scheme: Scheme, User: url.UserPassword(s.RootUser, s.RootPassword),
		Host: strings.TrimPrefix(s.Endpoint, "https://"), RawQuery: q.Encode()}
	cfg, err := ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	d = mustNew(t, cfg)
	if err := d.Ping(testContext(t)); err != nil {
		t.Fatalf("Ping with server-name=%s: %v", s.ServerName, err)
	}

	cfg = secureConfig(s)
	cfg.ServerName = ""
	_, err = New(cfg)
	var hostname x509.HostnameError
	if !errors.Is(err, driver.ErrInvalid) || !errors.As(err, &hostname) {
		t.Fatalf("New without ServerName: %v, want ErrInvalid wrapping an x509.HostnameError", err)
	}
}

// TestNewReportsTLSFailures checks that New reports each TLS failure at
// once, with its kind and its cause, instead of leaving it to time out the
// first request.
func TestNewReportsTLSFailures(t *testing.T) {
	s := testbackend.EtcdSecure(t)
	plain := testbackend.Etcd(t)[0]
	tlsPort := strings.TrimPrefix(s.Endpoint, "https://")
	var (
		alert     *net.OpError // crypto/tls's form of a TLS alert from the server
		unknownCA x509.UnknownAuthorityError
	)
	cases := []struct {
		name  string
		cfg   func(*Config)
		kind  error
		cause any // a pointer errors.As must fill, or nil
	}{
		{"wrong CA", func(c *Config) { c.CAFile = s.OtherCAFile }, driver.ErrInvalid, &unknownCA},
		{"no client certificate", func(c *Config) { c.CertFile, c.KeyFile = "", "" }, driver.ErrPermission, &alert},
		{"client certificate of another CA", func(c *Config) { c.CertFile, c.KeyFile = s.OtherCertFile, s.OtherKeyFile }, driver.ErrPermission, &alert},
		{"TLS against plaintext", func(c *Config) {
			c.Endpoints = []string{"https://" + strings.TrimPrefix(plain, "http://")}
			c.Username, c.Password = "", ""
		}, driver.ErrUnavailable, &io.EOF},
		{"plaintext against TLS", func(c *Config) {
			c.Endpoints = []string{"http://" + tlsPort}
			c.CAFile, c.CertFile, c.KeyFile, c.ServerName = "", "", "", ""
		}, driver.ErrInvalid, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := secureConfig(s)
			tc.cfg(&cfg)
			start := time.Now()
			d, err := New(cfg)
			if err == nil {
				closeOnCleanup(t, d)
				t.Fatal("New succeeded")
			}
			if took := time.Since(start); took >= secureDialTimeout/2 {
				t.Errorf("New took %v of its %v DialTimeout", took, secureDialTimeout)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("New: %v, want %v", err, tc.kind)
			}
			if tc.cause == &alert && errors.As(err, &alert) && alert.Op != "remote error" {
				t.Errorf("New: %v, want a TLS alert from the server as its cause", err)
			}
			if eof, ok := tc.cause.(*error); ok {
				if !errors.Is(err, *eof) {
					t.Errorf("New: %v, want a cause of %v", err, *eof)
				}
			} else if tc.cause != nil && !errors.As(err, tc.cause) {
				t.Errorf("New: %v, want a cause of type %T", err, tc.cause)
			}
		})
	}
}

// TestWrongPasswordRefused checks that refused credentials are
// ErrPermission from New, not a retryable ErrUnavailable.
func TestWrongPasswordRefused(t *testing.T) {
	s := testbackend.EtcdSecure(t)
	cfg := secureConfig(s)
	cfg.Password = "wrong"
	_, err := New(cfg)
	if !errors.Is(err, driver.ErrPermission) || !errors.Is(err, rpctypes.ErrAuthFailed) {
		t.Fatalf("New with a wrong password: %v, want ErrPermission wrapping %v", err, rpctypes.ErrAuthFailed)
	}
}

// secureUser creates a user with a role that has perm on [prefix,
// prefix-end) and returns a Config for it.
func secureUser(t *testing.T, s *testbackend.EtcdTLS, prefix string, perm clientv3.PermissionType) Config {
	t.Helper()
	root := mustNew(t, secureConfig(s))
	var c *clientv3.Client
	root.As(&c)
	ctx := testContext(t)
	name := fmt.Sprintf("u%d-%s", perm, strings.TrimSuffix(prefix, "/"))
	password := name + "-pw"
	if _, err := c.RoleAdd(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RoleGrantPermission(ctx, name, prefix, rangeEnd(prefix), perm); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UserAdd(ctx, name, password); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UserGrantRole(ctx, name, name); err != nil {
		t.Fatal(err)
	}
	cfg := secureConfig(s)
	cfg.Username, cfg.Password, cfg.Prefix = name, password, prefix
	return cfg
}

// TestSessionNeedsNoKeyPermission checks that a user without any permission
// on the driver's prefix may still open a session: etcd leases need none.
func TestSessionNeedsNoKeyPermission(t *testing.T) {
	s := testbackend.EtcdSecure(t)
	cfg := secureUser(t, s, testPrefix(t), clientv3.PermissionType(clientv3.PermRead))
	cfg.Prefix = testPrefix(t) // not the prefix the role covers
	d := mustNew(t, cfg)
	newTestSession(t, d, 5*time.Second)
	conformance.CheckRefused(t, "Ping", d.Ping)
}

// TestConformanceLeastPrivilege runs the conformance suite over TLS with
// client certificates, as a user whose only permission is readwrite on the
// driver's prefix.
func TestConformanceLeastPrivilege(t *testing.T) {
	s := testbackend.EtcdSecure(t)
	prefix := testPrefix(t)
	cfg := secureUser(t, s, prefix, clientv3.PermissionType(clientv3.PermReadWrite))
	readOnly := secureUser(t, s, prefix, clientv3.PermissionType(clientv3.PermRead))
	conformance.Run(t, conformance.Harness{
		Name: "etcd",
		NewDriver: func(context.Context, testing.TB) (driver.Driver, error) {
			return New(cfg)
		},
		Backend: strings.TrimPrefix(s.Endpoint, "https://"),
		NewDriverAt: func(_ context.Context, _ testing.TB, addr string) (driver.Driver, error) {
			c := cfg
			c.Endpoints = []string{"https://" + addr}
			return New(c)
		},
		NewReadOnlyDriver: func(context.Context, testing.TB) (driver.Driver, error) {
			return New(readOnly)
		},
		Crash:          func(d driver.Driver) { d.(*Driver).crash() },
		SessionTTL:     conformanceTTL,
		DiscardHistory: discardHistory(secureConfig(s)),
		Gaps: map[conformance.Feature]string{
			conformance.FeatureServerFaults: "TestConformance pauses and restarts servers of its own; this run checks permissions on a shared one",
		},
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
