package urlparam

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

// writePEM writes a self-signed certificate and its key into dir.
func writePEM(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLS(t *testing.T) {
	cert, key := writePEM(t, t.TempDir())
	esc := url.QueryEscape
	files := "ca-file=" + esc(cert) + "&cert-file=" + esc(cert) + "&key-file=" + esc(key)

	for _, tc := range []struct {
		raw       string
		schemeTLS bool
		on        bool
	}{
		{raw: "", on: false},
		{raw: "tls=false", on: false},
		{raw: "tls=true", on: true},
		{raw: "", schemeTLS: true, on: true},
		{raw: "tls=true", schemeTLS: true, on: true},
		{raw: "server-name=db", on: true},
		{raw: "insecure-skip-verify=false", on: true},
		{raw: files, on: true},
		{raw: "tls=true&" + files + "&server-name=db&insecure-skip-verify=true", on: true},
	} {
		q, err := Parse(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		c := q.TLS(tc.schemeTLS)
		if err := q.Done(); err != nil {
			t.Errorf("%q (scheme TLS %v): %v", tc.raw, tc.schemeTLS, err)
			continue
		}
		if (c != nil) != tc.on {
			t.Errorf("%q (scheme TLS %v): TLS on = %v, want %v", tc.raw, tc.schemeTLS, c != nil, tc.on)
		}
	}

	q, _ := Parse("tls=true&" + files + "&server-name=db&insecure-skip-verify=true")
	c := q.TLS(false)
	if c == nil || c.RootCAs == nil || len(c.Certificates) != 1 || c.ServerName != "db" || !c.InsecureSkipVerify || c.MinVersion == 0 {
		t.Errorf("TLS config %+v", c)
	}

	for _, tc := range []struct {
		raw       string
		schemeTLS bool
		key       string
	}{
		{raw: "tls=false", schemeTLS: true, key: "tls"},
		{raw: "cert-file=" + esc(cert), key: "cert-file"},
		{raw: "key-file=" + esc(key), key: "cert-file"},
		{raw: "ca-file=", key: "ca-file"},
		{raw: "ca-file=/does/not/exist", key: "ca-file"},
		{raw: "ca-file=" + esc(key), key: "ca-file"}, // a key is not a certificate
		{raw: "cert-file=" + esc(key) + "&key-file=" + esc(cert), key: "cert-file"},
		{raw: "tls=maybe", key: "tls"},
		{raw: "insecure-skip-verify=yes", key: "insecure-skip-verify"},
	} {
		q, _ := Parse(tc.raw)
		if c := q.TLS(tc.schemeTLS); c != nil {
			t.Errorf("%q: a TLS config despite the error", tc.raw)
		}
		err := q.Done()
		if !errors.Is(err, driver.ErrInvalid) || !strings.Contains(err.Error(), `"`+tc.key+`"`) {
			t.Errorf("%q: %v, want ErrInvalid naming %q", tc.raw, err, tc.key)
		}
	}
}

// TestTLSContradictionIsOrderIndependent is the case of a map-ordered
// parser that turned TLS on or off depending on iteration order: tls=false
// with a TLS file is an error, in whichever order they come.
func TestTLSContradictionIsOrderIndependent(t *testing.T) {
	cert, _ := writePEM(t, t.TempDir())
	for _, raw := range []string{
		"ca-file=" + url.QueryEscape(cert) + "&tls=false",
		"tls=false&ca-file=" + url.QueryEscape(cert),
	} {
		for range 50 {
			q, _ := Parse(raw)
			q.TLS(false)
			if err := q.Done(); !errors.Is(err, driver.ErrInvalid) || !strings.Contains(err.Error(), "contradicts") {
				t.Fatalf("%q: %v, want the contradiction", raw, err)
			}
		}
	}
}

func TestTLSFiles(t *testing.T) {
	cert, key := writePEM(t, t.TempDir())
	c, err := TLSFiles{CAFile: cert, CertFile: cert, KeyFile: key, ServerName: "db"}.Config()
	if err != nil || c.RootCAs == nil || len(c.Certificates) != 1 || c.ServerName != "db" {
		t.Fatalf("Config = %+v, %v", c, err)
	}
	if c, err := (TLSFiles{}).Config(); err != nil || c.RootCAs != nil || c.MinVersion != tls.VersionTLS12 {
		t.Fatalf("zero TLSFiles: %+v, %v; want the system's roots", c, err)
	}
	for _, f := range []TLSFiles{{CAFile: "/does/not/exist"}, {CertFile: cert}, {CAFile: key}} {
		if _, err := f.Config(); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", f, err)
		}
	}
	var pathErr *os.PathError
	if _, err := (TLSFiles{CAFile: "/does/not/exist"}).Config(); !errors.As(err, &pathErr) {
		t.Errorf("the file's error is not reachable: %v", err)
	}
}

func TestQueryTLSFiles(t *testing.T) {
	q, _ := Parse("ca-file=/a.pem&cert-file=/c.pem&key-file=/k.pem&server-name=db")
	f := q.TLSFiles(false)
	if err := q.Done(); err != nil || f == nil || *f != (TLSFiles{CAFile: "/a.pem", CertFile: "/c.pem", KeyFile: "/k.pem", ServerName: "db"}) {
		t.Fatalf("TLSFiles = %+v, %v (the files are not read)", f, err)
	}
	q, _ = Parse("tls=false")
	if f := q.TLSFiles(false); f != nil || q.Done() != nil {
		t.Fatalf("tls=false: %+v, %v", f, q.Done())
	}
	q, _ = Parse("tls=true")
	if f := q.TLSFiles(false); f == nil || *f != (TLSFiles{}) {
		t.Fatalf("tls=true: %+v", f)
	}
	q, _ = Parse("key-file=/k.pem")
	if f := q.TLSFiles(false); f != nil || !errors.Is(q.Done(), driver.ErrInvalid) {
		t.Fatalf("a key without a certificate: %+v, %v", f, q.Done())
	}
}
