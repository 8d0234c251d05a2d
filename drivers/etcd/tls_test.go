package etcd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/atomix"
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
	name := "u-" + strings.TrimSuffix(prefix, "/")
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
	expectRefused(t, "Ping", d.Ping)
}

// TestConformanceLeastPrivilege runs the conformance suite over TLS with
// client certificates, as a user whose only permission is readwrite on the
// driver's prefix.
func TestConformanceLeastPrivilege(t *testing.T) {
	s := testbackend.EtcdSecure(t)
	cfg := secureUser(t, s, testPrefix(t), clientv3.PermissionType(clientv3.PermReadWrite))
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
		Crash:      func(d driver.Driver) { d.(*Driver).crash() },
		SessionTTL: conformanceTTL,
		Gaps: map[conformance.Feature]string{
			conformance.FeatureServerFaults: "TestConformance pauses and restarts servers of its own; this run checks permissions on a shared one",
		},
	})
}

// refusalBound is how long a refused call may take; a refusal is one round
// trip, the bound only tells it from a retry until the context ends.
const refusalBound = 10 * time.Second

func expectRefused(t *testing.T, what string, call func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), refusalBound)
	defer cancel()
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return call(ctx)
	}()
	switch {
	case ctx.Err() != nil:
		t.Errorf("%s: returned %v only when its %v context ended, want ErrPermission at once", what, err, refusalBound)
	case !errors.Is(err, atomix.ErrPermission):
		t.Errorf("%s: %v, want ErrPermission", what, err)
	}
}

// snapshot returns the mod revision of every key under prefix.
func snapshot(t *testing.T, c *clientv3.Client, prefix string) map[string]int64 {
	t.Helper()
	resp, err := c.Get(testContext(t), prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	for _, kv := range resp.Kvs {
		m[string(kv.Key)] = kv.ModRevision
	}
	return m
}

// TestReadOnlyUserRefused checks that a user who may only read the prefix
// gets ErrPermission at once from every write of every primitive, and that
// nothing is written.
func TestReadOnlyUserRefused(t *testing.T) {
	s := testbackend.EtcdSecure(t)
	prefix := testPrefix(t)
	ctx := testContext(t)
	rootCfg := secureConfig(s)
	rootCfg.Prefix = prefix
	rootDriver := mustNew(t, rootCfg)
	seed := atomix.NewClient(atomix.WithDriver(rootDriver))
	t.Cleanup(func() { seed.Close(context.Background()) })
	setUp(t, ctx, seed)
	var rc *clientv3.Client
	rootDriver.As(&rc)
	before := snapshot(t, rc, prefix)
	if len(before) == 0 {
		t.Fatal("the seeded keys are not there")
	}

	ro := mustNew(t, secureUser(t, s, prefix, clientv3.PermissionType(clientv3.PermRead)))
	c := atomix.NewClient(atomix.WithDriver(ro), atomix.WithSessionTTL(5*time.Second))
	t.Cleanup(func() { c.Close(context.Background()) })
	for _, op := range writes(t, ctx, c) {
		expectRefused(t, op.name, op.call)
	}
	if after := snapshot(t, rc, prefix); !maps.Equal(before, after) {
		t.Errorf("refused writes changed the store:\nbefore %v\nafter  %v", before, after)
	}
}

// setUp writes one entry into each primitive that has entries.
func setUp(t *testing.T, ctx context.Context, c *atomix.Client) {
	t.Helper()
	ctr, err := c.GetCounter(ctx, "c")
	must(t, err)
	_, err = ctr.Set(ctx, 5)
	must(t, err)
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	must(t, err)
	_, err = m.Put(ctx, "k", "v")
	must(t, err)
	st, err := atomix.GetSet[string](ctx, "s", atomix.WithClient(c))
	must(t, err)
	_, err = st.Add(ctx, "a")
	must(t, err)
	v, err := atomix.GetValue[string](ctx, "v", atomix.WithClient(c))
	must(t, err)
	_, err = v.Set(ctx, "v")
	must(t, err)
	l, err := atomix.GetList[string](ctx, "l", atomix.WithClient(c))
	must(t, err)
	_, err = l.Append(ctx, "x")
	must(t, err)
	im, err := atomix.GetIndexedMap[string, string](ctx, "im", atomix.WithClient(c))
	must(t, err)
	_, err = im.Append(ctx, "k", "v")
	must(t, err)
}

type writeOp struct {
	name string
	call func(ctx context.Context) error
}

// writes returns one call of every write of every primitive.
func writes(t *testing.T, ctx context.Context, c *atomix.Client) []writeOp {
	t.Helper()
	ctr, err := c.GetCounter(ctx, "c")
	must(t, err)
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	must(t, err)
	st, err := atomix.GetSet[string](ctx, "s", atomix.WithClient(c))
	must(t, err)
	v, err := atomix.GetValue[string](ctx, "v", atomix.WithClient(c))
	must(t, err)
	l, err := atomix.GetList[string](ctx, "l", atomix.WithClient(c))
	must(t, err)
	im, err := atomix.GetIndexedMap[string, string](ctx, "im", atomix.WithClient(c))
	must(t, err)
	lk, err := c.GetLock(ctx, "lock")
	must(t, err)
	lk2, err := c.GetLock(ctx, "lock2")
	must(t, err)
	el, err := c.GetElection(ctx, "e")
	must(t, err)
	return []writeOp{
		{"Counter.Set", func(ctx context.Context) error { _, err := ctr.Set(ctx, 7); return err }},
		{"Counter.Increment", func(ctx context.Context) error { _, err := ctr.Increment(ctx, 1); return err }},
		{"Counter.CompareAndSet", func(ctx context.Context) error { _, err := ctr.CompareAndSet(ctx, 5, 6); return err }},
		{"Map.Put", func(ctx context.Context) error { _, err := m.Put(ctx, "k2", "v"); return err }},
		{"Map.Insert", func(ctx context.Context) error { _, err := m.Insert(ctx, "k3", "v"); return err }},
		{"Map.Update", func(ctx context.Context) error { _, err := m.Update(ctx, "k", "w"); return err }},
		{"Map.Remove", func(ctx context.Context) error { _, err := m.Remove(ctx, "k"); return err }},
		{"Map.Clear", func(ctx context.Context) error { return m.Clear(ctx) }},
		{"Set.Add", func(ctx context.Context) error { _, err := st.Add(ctx, "b"); return err }},
		{"Set.Remove", func(ctx context.Context) error { _, err := st.Remove(ctx, "a"); return err }},
		{"Set.Clear", func(ctx context.Context) error { return st.Clear(ctx) }},
		{"Value.Set", func(ctx context.Context) error { _, err := v.Set(ctx, "w"); return err }},
		{"Value.Delete", func(ctx context.Context) error { return v.Delete(ctx) }},
		{"List.Append", func(ctx context.Context) error { _, err := l.Append(ctx, "y"); return err }},
		{"List.Set", func(ctx context.Context) error { _, err := l.Set(ctx, 0, "y"); return err }},
		{"List.Remove", func(ctx context.Context) error { _, err := l.Remove(ctx, 0); return err }},
		{"List.Clear", func(ctx context.Context) error { return l.Clear(ctx) }},
		{"IndexedMap.Append", func(ctx context.Context) error { _, err := im.Append(ctx, "k2", "v"); return err }},
		{"IndexedMap.Update", func(ctx context.Context) error { _, err := im.Update(ctx, "k", "w"); return err }},
		{"IndexedMap.Remove", func(ctx context.Context) error { _, err := im.Remove(ctx, "k"); return err }},
		{"IndexedMap.Clear", func(ctx context.Context) error { return im.Clear(ctx) }},
		{"Lock.Lock", func(ctx context.Context) error { _, err := lk.Lock(ctx); return err }},
		{"Lock.TryLock", func(ctx context.Context) error { _, _, err := lk2.TryLock(ctx); return err }},
		{"Election.Enter", func(ctx context.Context) error { _, err := el.Enter(ctx); return err }},
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
