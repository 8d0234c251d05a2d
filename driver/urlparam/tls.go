package urlparam

import (
	"crypto/tls"
	"crypto/x509"
	"os"

	"github.com/atomix/go-client/driver"
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
// TLS configuration they describe, or nil when TLS is off or a key is
// invalid. schemeTLS says that the URL's scheme asks for TLS (rediss); then
// tls=false is a contradiction. The files are read at once, as
// TLSFiles.Config reads them.
func (q *Query) TLS(schemeTLS bool) *tls.Config {
	files := q.TLSFiles(schemeTLS)
	if files == nil {
		return nil
	}
	cfg, key, reason, cause := files.load()
	if reason != "" {
		q.failCause(key, cause, "%s", reason)
		return nil
	}
	return cfg
}

// TLSFiles reads the TLS keys as TLS does, without reading the files: for a
// driver whose Config names the files and loads them with TLSFiles.Config
// when it dials. It returns nil when TLS is off or a key is invalid.
func (q *Query) TLSFiles(schemeTLS bool) *TLSFiles {
	tlsGiven := q.Has(KeyTLS)
	on := q.Bool(KeyTLS)
	files := TLSFiles{
		CAFile:             q.file(KeyCAFile),
		CertFile:           q.file(KeyCertFile),
		KeyFile:            q.file(KeyKeyFile),
		ServerName:         q.String(KeyServerName),
		InsecureSkipVerify: q.Bool(KeyInsecureSkipVerify),
	}
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
	if key, reason := files.pairing(); reason != "" {
		q.fail(key, "%s", reason)
		return nil
	}
	return &files
}

// file returns the value of a file key; present but empty is an error.
func (q *Query) file(key string) string {
	v, ok := q.value(key)
	if ok && v == "" {
		q.failCause(key, errEmpty, "empty file name")
	}
	return v
}

// TLSFiles is a TLS client configuration as files and settings: what the
// TLS keys of a URL say, and what a driver's Config may offer as plain
// fields. Its zero value is TLS with the system's roots.
type TLSFiles struct {
	// CAFile is a PEM file of the CAs that sign the server's certificate;
	// empty means the system's roots.
	CAFile string
	// CertFile and KeyFile are the PEM client certificate and key; both or
	// neither.
	CertFile, KeyFile string
	// ServerName is the name checked in the server's certificate; empty
	// means the host dialled.
	ServerName string
	// InsecureSkipVerify disables the verification of the server's
	// certificate. For tests only.
	InsecureSkipVerify bool
}

// Config reads the files and returns the TLS configuration, which requires
// TLS 1.2 or later. A file that cannot be read, a CA file without a PEM
// certificate, a certificate without its key (or the reverse) or a key that
// does not match is an error wrapping driver.ErrInvalid that names the
// setting by its URL key ("TLS ca-file: …").
func (f TLSFiles) Config() (*tls.Config, error) {
	cfg, key, reason, cause := f.load()
	if reason != "" {
		return nil, driver.Wrap(driver.ErrInvalid, cause, "TLS %s: %s", key, reason)
	}
	return cfg, nil
}

// load builds the configuration, or says which key is wrong and why.
func (f TLSFiles) load() (cfg *tls.Config, key, reason string, cause error) {
	if key, reason := f.pairing(); reason != "" {
		return nil, key, reason, nil
	}
	cfg = &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         f.ServerName,
		InsecureSkipVerify: f.InsecureSkipVerify, //nolint:gosec // opt-in, documented as tests only
	}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, KeyCAFile, "cannot read the file", err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, KeyCAFile, "the file holds no PEM certificate", nil
		}
		cfg.RootCAs = pool
	}
	if f.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, KeyCertFile, "cannot load the client certificate and key", err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, "", "", nil
}

// pairing says what is wrong when only one of the certificate and the key
// is given.
func (f TLSFiles) pairing() (key, reason string) {
	if (f.CertFile == "") != (f.KeyFile == "") {
		return KeyCertFile, KeyCertFile + " and " + KeyKeyFile + " go together"
	}
	return "", ""
}
