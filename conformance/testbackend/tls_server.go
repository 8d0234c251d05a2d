package testbackend

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

// TLSServer is a server of a test's own that accepts only TLS connections
// with a client certificate its CA signed (StartRedisTLS, StartConsulTLS).
// Its certificates come from the same kind of throwaway PKI as EtcdSecure's.
type TLSServer struct {
	*Restartable
	// ServerName is the only name in the server's certificate; 127.0.0.1
	// is not in it.
	ServerName string
	// CAFile is the CA that signed the server's and the client's
	// certificates; CertFile and KeyFile a client certificate the server
	// accepts.
	CAFile, CertFile, KeyFile string
	// OtherCAFile signed nothing the server uses; OtherCertFile and
	// OtherKeyFile are a client certificate it signed, which the server
	// refuses.
	OtherCAFile, OtherCertFile, OtherKeyFile string
}

// StartRedisTLS starts a redis-server of t's own that accepts only TLS
// connections with a client certificate its CA signed (tls-auth-clients
// yes), on a free loopback port, without persistence. Without the binary it
// skips t, or fails it when ATOMIX_REQUIRE_BACKENDS names redis.
func StartRedisTLS(t testing.TB) *TLSServer {
	t.Helper()
	s, pki, clientTLS := newTLSServer(t)
	port := FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s.Restartable = newRestartable(t, &Restartable{
		name: "redis",
		addr: addr,
		args: func(dir string) []string {
			return []string{
				"--port", "0",
				"--tls-port", strconv.Itoa(port),
				"--tls-cert-file", filepath.Join(pki, "server.pem"),
				"--tls-key-file", filepath.Join(pki, "server-key.pem"),
				"--tls-ca-cert-file", s.CAFile,
				"--tls-auth-clients", "yes",
				"--bind", "127.0.0.1",
				"--save", "",
				"--appendonly", "no",
				"--dir", dir,
				"--loglevel", "warning",
			}
		},
		ready:   func() bool { return redisAnswersTLS(addr, clientTLS) },
		timeout: 30 * time.Second,
	}, "redis-server", redisHowTo)
	return s
}

// newTLSServer writes a PKI into a temporary directory of t's and returns
// the server description (without its process), the directory, and the
// client configuration the server will accept.
func newTLSServer(t testing.TB) (*TLSServer, string, *tls.Config) {
	t.Helper()
	pki := t.TempDir()
	p, err := writePKI(pki)
	if err != nil {
		t.Fatalf("testbackend: TLS certificates: %v", err)
	}
	s := &TLSServer{
		ServerName: p.ServerName, CAFile: p.CAFile, CertFile: p.CertFile, KeyFile: p.KeyFile,
		OtherCAFile: p.OtherCAFile, OtherCertFile: p.OtherCertFile, OtherKeyFile: p.OtherKeyFile,
	}
	cfg, err := s.ClientConfig()
	if err != nil {
		t.Fatalf("testbackend: TLS client configuration: %v", err)
	}
	return s, pki, cfg
}

// ClientConfig is a TLS configuration the server accepts.
func (s *TLSServer) ClientConfig() (*tls.Config, error) {
	ca, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: s.ServerName, MinVersion: tls.VersionTLS12}, nil
}

// redisAnswersTLS reports whether a Redis server answers PING over TLS.
func redisAnswersTLS(addr string, cfg *tls.Config) bool {
	d := &net.Dialer{Timeout: time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return false
	}
	return pongs(c)
}

// StartConsulTLS starts a `consul agent -dev` of t's own whose HTTP API is
// served only over HTTPS, with client certificates required, on free
// loopback ports. Without the binary it skips t, or fails it when
// ATOMIX_REQUIRE_BACKENDS names consul.
func StartConsulTLS(t testing.TB) *TLSServer {
	t.Helper()
	s, pki, clientTLS := newTLSServer(t)
	addr, ports := consulPorts(t, "-https-port")
	ports = append(ports, "-http-port", "-1")
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS}}
	tlsHCL := fmt.Sprintf(`tls { defaults { ca_file = %q cert_file = %q key_file = %q } https { verify_incoming = true } }`,
		s.CAFile, filepath.Join(pki, "server.pem"), filepath.Join(pki, "server-key.pem"))
	s.Restartable = newRestartable(t, &Restartable{
		name: "consul",
		addr: addr,
		args: func(dir string) []string {
			args := append(consulAgentArgs("atomix-test-tls", dir), "-dev", "-hcl", tlsHCL)
			return append(args, ports...)
		},
		ready:   func() bool { return consulAnswersWithLeader(client, "https://"+addr) },
		timeout: time.Minute,
	}, "consul", consulHowTo)
	return s
}

// TLSCase is one TLS set-up of a client against a TLSServer (or another
// server), and the error kind every call of that client must return.
type TLSCase struct {
	Name  string
	Addr  string     // host:port the client connects to
	Query url.Values // the URL's TLS parameters
	Want  error      // the kind every call returns; nil: calls succeed
	X509  bool       // an x509 error must be reachable with errors.As
}

// TLSCases returns the set-ups every driver must treat alike: the right
// one, which works; a server certificate from an unknown CA, or without
// the name the client checks, which is ErrInvalid with the x509 cause; and
// a client certificate of another CA, or none, which the server refuses:
// ErrPermission.
func (s *TLSServer) TLSCases() []TLSCase {
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	addr := s.Addr()
	return []TLSCase{
		{"right certificates", addr, q("ca-file", s.CAFile, "cert-file", s.CertFile, "key-file", s.KeyFile, "server-name", s.ServerName), nil, false},
		{"server certificate from an unknown CA", addr, q("ca-file", s.OtherCAFile, "cert-file", s.CertFile, "key-file", s.KeyFile, "server-name", s.ServerName), driver.ErrInvalid, true},
		{"server name not in the certificate", addr, q("ca-file", s.CAFile, "cert-file", s.CertFile, "key-file", s.KeyFile), driver.ErrInvalid, true},
		{"client certificate from another CA", addr, q("ca-file", s.CAFile, "cert-file", s.OtherCertFile, "key-file", s.OtherKeyFile, "server-name", s.ServerName), driver.ErrPermission, false},
		{"no client certificate", addr, q("ca-file", s.CAFile, "server-name", s.ServerName), driver.ErrPermission, false},
	}
}

// CheckTLSCase opens a driver at scheme://c.Addr?c.Query and checks that
// Ping and a Map.Put return c.Want (never ErrAmbiguous: a failed TLS set-up
// sends nothing) well before a 10 s deadline, or succeed when c.Want is nil.
func CheckTLSCase(t *testing.T, scheme string, c TLSCase) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw := scheme + "://" + c.Addr
	if len(c.Query) > 0 {
		raw += "?" + c.Query.Encode()
	}
	d, err := driver.Open(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	m, err := d.OpenMap(ctx, driver.ID{Namespace: "tls", Name: "m"})
	if err != nil {
		t.Fatal(err)
	}
	_, putErr := m.Put(ctx, "k", []byte("v"), 0)
	for _, r := range []struct {
		op  string
		err error
	}{{"Ping", d.Ping(ctx)}, {"Map.Put", putErr}} {
		switch {
		case ctx.Err() != nil:
			t.Fatalf("%s: returned %v only when its context ended", r.op, r.err)
		case c.Want == nil && r.err != nil:
			t.Errorf("%s: %v", r.op, r.err)
		case c.Want != nil && (!errors.Is(r.err, c.Want) || errors.Is(r.err, driver.ErrAmbiguous)):
			t.Errorf("%s: %v, want %v and not ErrAmbiguous", r.op, r.err, c.Want)
		}
		var unknown x509.UnknownAuthorityError
		var hostname x509.HostnameError
		if c.X509 && !errors.As(r.err, &unknown) && !errors.As(r.err, &hostname) {
			t.Errorf("%s: %v: the x509 cause is not reachable", r.op, r.err)
		}
	}
}
