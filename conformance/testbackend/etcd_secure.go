package testbackend

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// EtcdSecureServerName is the only name in the certificate of the server
// EtcdSecure starts: clients reach it at 127.0.0.1 and must set their
// server name to this to verify it.
const EtcdSecureServerName = "etcd.test"

// EtcdTLS describes the etcd server EtcdSecure starts: TLS with client
// certificates required, and authentication enabled.
type EtcdTLS struct {
	// Endpoint is the server's client URL, https://127.0.0.1:port.
	Endpoint string
	// ServerName is the name the server's certificate holds
	// (EtcdSecureServerName); 127.0.0.1 is not in it.
	ServerName string
	// CAFile is the PEM certificate of the CA that signed the server's
	// and the client's certificates.
	CAFile string
	// CertFile and KeyFile are a client certificate and key the server
	// accepts. Its common name names no etcd user, so it grants nothing
	// by itself: requests authenticate with a username and password.
	CertFile, KeyFile string
	// OtherCAFile is the certificate of a CA that signed nothing the
	// server uses, and OtherCertFile, OtherKeyFile a client certificate
	// that CA signed, which the server refuses.
	OtherCAFile                 string
	OtherCertFile, OtherKeyFile string
	// RootUser and RootPassword are the credentials of etcd's root user.
	RootUser, RootPassword string
}

// TLSConfig returns the client TLS configuration that the server accepts.
func (e *EtcdTLS) TLSConfig(t testing.TB) *tls.Config {
	t.Helper()
	ca, err := os.ReadFile(e.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(e.CertFile, e.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: e.ServerName, MinVersion: tls.VersionTLS12}
}

var etcdSecure struct {
	mu   sync.Mutex
	srv  *EtcdTLS
	fail string
}

// EtcdSecure returns an etcd server, started from the etcd binary once per
// test process (stopped by Shutdown), that serves clients over TLS only,
// requires client certificates (--client-cert-auth) and has
// authentication enabled with a root user. Its certificates are generated
// at start. Only the process mode exists: without an etcd binary it skips
// t, or fails it when ATOMIX_REQUIRE_BACKENDS names etcd.
func EtcdSecure(t testing.TB) *EtcdTLS {
	t.Helper()
	etcdSecure.mu.Lock()
	defer etcdSecure.mu.Unlock()
	if etcdSecure.srv == nil && etcdSecure.fail == "" {
		if !UseProcess() {
			etcdSecure.fail = "ATOMIX_TEST_PROVIDER=" + Provider() + " disallows processes, the only way to a TLS etcd"
		} else if bin := FindBinary("etcd"); bin == "" {
			etcdSecure.fail = "no etcd binary on PATH or in " + BinDir()
		} else if srv, err := startEtcdSecure(t, bin); err != nil {
			etcdSecure.fail = err.Error()
		} else {
			etcdSecure.srv = srv
		}
	}
	if etcdSecure.srv == nil {
		Unavailable(t, "etcd", "TLS server: "+etcdSecure.fail, "run .ci/install-backends etcd")
	}
	return etcdSecure.srv
}

func startEtcdSecure(t testing.TB, bin string) (*EtcdTLS, error) {
	dir, err := os.MkdirTemp("", "atomix-etcd-tls-")
	if err != nil {
		return nil, err
	}
	pki := filepath.Join(dir, "pki")
	if err := os.Mkdir(pki, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	srv, err := writePKI(pki)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	clientPort, peerPort := FreePort(t), FreePort(t)
	for peerPort == clientPort {
		peerPort = FreePort(t)
	}
	srv.Endpoint = fmt.Sprintf("https://127.0.0.1:%d", clientPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	args := []string{
		"--name", "atomix-test-tls",
		"--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", srv.Endpoint,
		"--advertise-client-urls", srv.Endpoint,
		"--listen-peer-urls", peerURL,
		"--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "atomix-test-tls=" + peerURL,
		"--initial-cluster-state", "new",
		"--cert-file", filepath.Join(pki, "server.pem"),
		"--key-file", filepath.Join(pki, "server-key.pem"),
		"--trusted-ca-file", srv.CAFile,
		"--client-cert-auth",
		"--log-level", "warn",
	}
	tlsCfg := srv.TLSConfig(t)
	healthy := func() bool {
		c := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
		resp, err := c.Get(srv.Endpoint + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	if err := startProcess(bin, args, dir, 30*time.Second, healthy); err != nil {
		return nil, err
	}
	if err := enableEtcdAuth(srv, tlsCfg); err != nil {
		return nil, fmt.Errorf("enable etcd authentication: %w", err)
	}
	return srv, nil
}

// enableEtcdAuth creates the root user and enables authentication,
// through etcd's JSON gateway (the gRPC client would check the server's
// certificate against 127.0.0.1, not ServerName).
func enableEtcdAuth(srv *EtcdTLS, tlsCfg *tls.Config) error {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	steps := []struct{ path, body string }{
		{"/v3/auth/user/add", fmt.Sprintf(`{"name":%q,"password":%q}`, srv.RootUser, srv.RootPassword)},
		{"/v3/auth/user/grant", fmt.Sprintf(`{"user":%q,"role":"root"}`, srv.RootUser)},
		{"/v3/auth/enable", `{}`},
	}
	for _, s := range steps {
		resp, err := c.Post(srv.Endpoint+s.path, "application/json", strings.NewReader(s.body))
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s: %s", s.path, resp.Status, body)
		}
	}
	return nil
}

// writePKI generates two CAs, a server certificate for EtcdSecureServerName
// and a client certificate signed by the first, and a client certificate
// signed by the second, and writes them as PEM files into dir.
func writePKI(dir string) (*EtcdTLS, error) {
	ca, caKey, err := newCert(dir, "ca", &x509.Certificate{Subject: pkix.Name{CommonName: "atomix test CA"}, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}, nil, nil)
	if err != nil {
		return nil, err
	}
	other, otherKey, err := newCert(dir, "other-ca", &x509.Certificate{Subject: pkix.Name{CommonName: "atomix other CA"}, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}, nil, nil)
	if err != nil {
		return nil, err
	}
	leaf := func(cn string, usage x509.ExtKeyUsage, dns ...string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	}
	// etcd uses the server certificate for its own client connections too
	// (the gRPC gateway), so it may serve as a client certificate.
	server := leaf("etcd server", x509.ExtKeyUsageServerAuth, EtcdSecureServerName)
	server.ExtKeyUsage = append(server.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	if _, _, err := newCert(dir, "server", server, ca, caKey); err != nil {
		return nil, err
	}
	if _, _, err := newCert(dir, "client", leaf("atomix-test-client", x509.ExtKeyUsageClientAuth), ca, caKey); err != nil {
		return nil, err
	}
	if _, _, err := newCert(dir, "other-client", leaf("atomix-test-client", x509.ExtKeyUsageClientAuth), other, otherKey); err != nil {
		return nil, err
	}
	pw := make([]byte, 12)
	rand.Read(pw)
	return &EtcdTLS{
		ServerName:    EtcdSecureServerName,
		CAFile:        filepath.Join(dir, "ca.pem"),
		CertFile:      filepath.Join(dir, "client.pem"),
		KeyFile:       filepath.Join(dir, "client-key.pem"),
		OtherCAFile:   filepath.Join(dir, "other-ca.pem"),
		OtherCertFile: filepath.Join(dir, "other-client.pem"),
		OtherKeyFile:  filepath.Join(dir, "other-client-key.pem"),
		RootUser:      "root",
		RootPassword:  hex.EncodeToString(pw),
	}, nil
}

var serial int64

// newCert signs tmpl with parent's key (itself when parent is nil) and
// writes NAME.pem and NAME-key.pem into dir.
func newCert(dir, name string, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	if tmpl.IPAddresses == nil {
		tmpl.IPAddresses = []net.IP{}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, name+"-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}
