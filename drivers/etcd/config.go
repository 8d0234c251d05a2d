package etcd

import (
	"crypto/tls"
	"time"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/urlparam"
)

// Defaults used when a Config field is zero.
const (
	// DefaultPrefix is the key prefix under which the driver keeps every
	// primitive's state.
	DefaultPrefix = "atomix/"
	// DefaultDialTimeout bounds the initial connection when authenticating.
	DefaultDialTimeout = 5 * time.Second
	// DefaultKeepAliveTime is how long a connection may be idle before the
	// client probes it.
	DefaultKeepAliveTime = 10 * time.Second
	// DefaultKeepAliveTimeout is how long a probe may go unanswered before
	// the connection is considered dead.
	DefaultKeepAliveTimeout = 10 * time.Second
	// DefaultSessionTTL is the TTL of a session whose SessionOptions.TTL is
	// zero. (atomix always gives one: its WithSessionTTL.)
	DefaultSessionTTL = 10 * time.Second
)

// Config configures a connection to an etcd cluster: New dials it,
// ParseURL makes one from an etcd:// URL, and NewFromClient is the way to a
// client configured otherwise. The zero value of every field but Endpoints
// is usable.
type Config struct {
	// Endpoints are the cluster's client URLs, as "host:port",
	// "http://host:port" or "https://host:port". At least one is required.
	Endpoints []string

	// Username and Password authenticate with etcd's role-based access
	// control. Both or neither must be set; when set, New contacts the
	// cluster at once to obtain a token (bounded by DialTimeout).
	Username string
	Password string

	// TLS, when not nil, is the TLS configuration of every connection. It
	// takes precedence over the file fields below.
	TLS *tls.Config
	// CAFile is a PEM file of the certificate authorities that sign the
	// servers' certificates. Setting it enables TLS.
	CAFile string
	// CertFile and KeyFile are the PEM client certificate and key, for
	// clusters that require client certificates. Setting them enables TLS.
	CertFile string
	KeyFile  string
	// ServerName overrides the name checked in the servers' certificates.
	ServerName string
	// InsecureSkipVerify disables verification of the servers'
	// certificates. For tests only.
	InsecureSkipVerify bool

	// DialTimeout bounds the initial connection and authentication
	// (DefaultDialTimeout when zero). Requests are bounded only by their
	// contexts.
	DialTimeout time.Duration
	// KeepAliveTime and KeepAliveTimeout configure gRPC keepalive probes,
	// which turn a silently dead connection into errors
	// (DefaultKeepAliveTime, DefaultKeepAliveTimeout when zero; etcd
	// refuses probes more frequent than every 5 s by default).
	KeepAliveTime    time.Duration
	KeepAliveTimeout time.Duration

	// Prefix is prepended to every key the driver writes (DefaultPrefix
	// when empty). Drivers with different prefixes share nothing; end it
	// with "/" to keep etcdctl listings readable.
	Prefix string
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.KeepAliveTime == 0 {
		c.KeepAliveTime = DefaultKeepAliveTime
	}
	if c.KeepAliveTimeout == 0 {
		c.KeepAliveTimeout = DefaultKeepAliveTimeout
	}
	return c
}

// validate reports a malformed configuration as ErrInvalid.
func (c Config) validate() error {
	if len(c.Endpoints) == 0 {
		return driver.Errorf(driver.ErrInvalid, "no endpoints")
	}
	for _, e := range c.Endpoints {
		if e == "" {
			return driver.Errorf(driver.ErrInvalid, "empty endpoint")
		}
	}
	if (c.Username == "") != (c.Password == "") {
		return driver.Errorf(driver.ErrInvalid, "username and password must be set together")
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return driver.Errorf(driver.ErrInvalid, "cert and key files must be set together")
	}
	if c.DialTimeout < 0 || c.KeepAliveTime < 0 || c.KeepAliveTimeout < 0 {
		return driver.Errorf(driver.ErrInvalid, "negative dial timeout, keepalive time or keepalive timeout")
	}
	return nil
}

// tlsConfig returns the TLS configuration the fields describe, or nil for
// plain connections.
func (c Config) tlsConfig() (*tls.Config, error) {
	if c.TLS != nil {
		return c.TLS, nil
	}
	if c.CAFile == "" && c.CertFile == "" && !c.InsecureSkipVerify && c.ServerName == "" {
		return nil, nil
	}
	return urlparam.TLSFiles{
		CAFile:             c.CAFile,
		CertFile:           c.CertFile,
		KeyFile:            c.KeyFile,
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify,
	}.Config()
}
