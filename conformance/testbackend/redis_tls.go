package testbackend

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisTLS describes the redis-server StartRedisTLS starts: TLS only, with
// client certificates required. Its certificates come from the same kind
// of throwaway PKI as EtcdSecure's.
type RedisTLS struct {
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
func StartRedisTLS(t testing.TB) *RedisTLS {
	t.Helper()
	pki := t.TempDir()
	p, err := writePKI(pki)
	if err != nil {
		t.Fatalf("testbackend: redis TLS certificates: %v", err)
	}
	s := &RedisTLS{
		ServerName: p.ServerName, CAFile: p.CAFile, CertFile: p.CertFile, KeyFile: p.KeyFile,
		OtherCAFile: p.OtherCAFile, OtherCertFile: p.OtherCertFile, OtherKeyFile: p.OtherKeyFile,
	}
	clientTLS, err := s.clientConfig()
	if err != nil {
		t.Fatalf("testbackend: redis TLS client configuration: %v", err)
	}
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
				"--tls-ca-cert-file", p.CAFile,
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

// clientConfig is the TLS configuration the server accepts.
func (s *RedisTLS) clientConfig() (*tls.Config, error) {
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
