package testbackend

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
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
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// StartConsulTLS starts a `consul agent -dev` of t's own whose HTTP API is
// served only over HTTPS, with client certificates required, on free
// loopback ports. Without the binary it skips t, or fails it when
// ATOMIX_REQUIRE_BACKENDS names consul.
func StartConsulTLS(t testing.TB) *TLSServer {
	t.Helper()
	s, pki, clientTLS := newTLSServer(t)
	httpsPort := FreePort(t)
	ports := []string{
		"-https-port", strconv.Itoa(httpsPort),
		"-http-port", "-1",
		"-server-port", strconv.Itoa(FreePort(t)),
		"-serf-lan-port", strconv.Itoa(FreePort(t)),
		"-serf-wan-port", strconv.Itoa(FreePort(t)),
	}
	addr := "127.0.0.1:" + strconv.Itoa(httpsPort)
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS}}
	tlsHCL := fmt.Sprintf(`tls { defaults { ca_file = %q cert_file = %q key_file = %q } https { verify_incoming = true } }`,
		s.CAFile, filepath.Join(pki, "server.pem"), filepath.Join(pki, "server-key.pem"))
	s.Restartable = newRestartable(t, &Restartable{
		name: "consul",
		addr: addr,
		args: func(dir string) []string {
			args := []string{
				"agent", "-dev",
				"-node", "atomix-test-tls",
				"-bind", "127.0.0.1",
				"-client", "127.0.0.1",
				"-data-dir", dir,
				"-dns-port", "-1",
				"-grpc-port", "-1",
				"-grpc-tls-port", "-1",
				"-disable-keyring-file",
				"-log-level", "warn",
				"-hcl", "disable_update_check = true",
				"-hcl", tlsHCL,
			}
			return append(args, ports...)
		},
		ready: func() bool {
			resp, err := client.Get("https://" + addr + "/v1/status/leader")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			return resp.StatusCode == http.StatusOK && hasLeader(resp.Body)
		},
		timeout: time.Minute,
	}, "consul", consulHowTo)
	return s
}
