package urlparam

import (
	"crypto/tls"
	"crypto/x509"
	"os"
)

// The TLS keys every driver reads, with TLS.
const (
	KeyTLS                = "tls"
	KeyCAFile             = "ca-file"
	KeyCertFile           = "cert-file"
	KeyKeyFile            = "key-file"
	KeyServerName         = "server-name"
	KeyInsecureSkipVerify = "insecure-skip-verify"
)

// TLS reads the TLS keys (see the package documentation) and returns the
// TLS configuration they describe, or nil when TLS is off. schemeTLS says
// that the URL's scheme asks for TLS (rediss); then tls=false is a
// contradiction. The files are read at once: a file that cannot be read or
// holds no PEM certificate is an error. The configuration requires TLS 1.2
// or later; without ca-file it trusts the system's roots.
func (q *Query) TLS(schemeTLS bool) *tls.Config {
	tlsGiven := q.Has(KeyTLS)
	on := q.Bool(KeyTLS)
	caFile, certFile, keyFile := q.file(KeyCAFile), q.file(KeyCertFile), q.file(KeyKeyFile)
	serverName := q.String(KeyServerName)
	skipVerify := q.Bool(KeyInsecureSkipVerify)
	if q.err != nil {
		return nil
	}
	implied := schemeTLS
	for _, k := range []string{KeyCAFile, KeyCertFile, KeyKeyFile, KeyServerName, KeyInsecureSkipVerify} {
		implied = implied || q.Has(k)
	}
	if tlsGiven && !on && implied {
		q.fail(KeyTLS, "tls=false contradicts the TLS scheme or the other TLS parameters")
		return nil
	}
	if !on && !implied {
		return nil
	}
	if (certFile == "") != (keyFile == "") {
		q.fail(KeyCertFile, "%s and %s go together", KeyCertFile, KeyKeyFile)
		return nil
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         serverName,
		InsecureSkipVerify: skipVerify, //nolint:gosec // opt-in, documented as tests only
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			q.failCause(KeyCAFile, err, "cannot read the file")
			return nil
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			q.fail(KeyCAFile, "the file holds no PEM certificate")
			return nil
		}
		cfg.RootCAs = pool
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			q.failCause(KeyCertFile, err, "cannot load the client certificate and key")
			return nil
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

// file returns the value of a file key; present but empty is an error.
func (q *Query) file(key string) string {
	v, ok := q.value(key)
	if ok && v == "" {
		q.failCause(key, errEmpty, "empty file name")
	}
	return v
}
