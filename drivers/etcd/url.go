package etcd

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/urlparam"
)

// Scheme is the URL scheme the package registers with driver.Register.
const Scheme = "etcd"

// maxURLDuration bounds the durations of a URL.
const maxURLDuration = 24 * time.Hour

func init() {
	driver.Register(Scheme, func(ctx context.Context, u *url.URL) (driver.Driver, error) {
		cfg, err := ParseURL(u)
		if err != nil {
			return nil, err
		}
		return New(cfg)
	})
}

// ParseURL returns the Config an etcd URL describes:
//
//	etcd://[user:password@]host[:port][,host[:port]...][?param=value&...]
//
// The hosts are the cluster's client endpoints (port 2379 when omitted; a
// port outside 1-65535 is an error).
// The user information, if present, is the username and password for
// etcd's authentication. The query parameters are:
//
//	tls=true                    connect with TLS (implied by every other TLS parameter)
//	ca-file=PATH                PEM file of the CAs that sign the servers' certificates
//	                            (default: the system's roots)
//	cert-file=PATH, key-file=PATH  PEM client certificate and key
//	server-name=NAME            name checked in the servers' certificates
//	insecure-skip-verify=true   do not verify the servers' certificates (tests only)
//	dial-timeout=DURATION       Config.DialTimeout, e.g. 5s
//	keepalive-time=DURATION     Config.KeepAliveTime
//	keepalive-timeout=DURATION  Config.KeepAliveTimeout
//	prefix=STRING               Config.Prefix, the key prefix (default "atomix/")
//	password-file=PATH          file holding the password (instead of the URL's), such
//	                            as a mounted secret; one trailing newline is ignored
//
// The TLS parameters are read by package driver/urlparam into Config.TLS;
// tls=false with another TLS parameter is a contradiction. Durations use
// time.ParseDuration's syntax and are at most 24h. An unknown parameter, a
// repeated one, or a malformed value is an error wrapping ErrInvalid that
// names the parameter and never shows a value.
//
// atomix.Open reads namespace= and session-ttl= itself; the driver never
// sees them.
func ParseURL(u *url.URL) (Config, error) {
	if u.Scheme != Scheme {
		return Config{}, driver.Errorf(driver.ErrInvalid, "scheme is %q, not %q", u.Scheme, Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return Config{}, driver.Errorf(driver.ErrInvalid, "want etcd://host:port[,host:port...]")
	}
	if u.Path != "" && u.Path != "/" {
		return Config{}, driver.Errorf(driver.ErrInvalid, "an etcd URL has no path")
	}
	var cfg Config
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	q, err := urlparam.Parse(u.RawQuery)
	if err != nil {
		return Config{}, err
	}
	cfg.TLS = q.TLS(false)
	cfg.DialTimeout = q.Duration("dial-timeout", maxURLDuration)
	cfg.KeepAliveTime = q.Duration("keepalive-time", maxURLDuration)
	cfg.KeepAliveTimeout = q.Duration("keepalive-timeout", maxURLDuration)
	cfg.Prefix = q.String("prefix")
	passwordFile := q.SecretFile("password-file")
	if err := q.Done(); err != nil {
		return Config{}, err
	}
	if q.Has("password-file") {
		if cfg.Password != "" {
			return Config{}, driver.Errorf(driver.ErrInvalid, "password-file: the URL also has a password")
		}
		cfg.Password = passwordFile
	}
	scheme := "http://"
	if cfg.TLS != nil {
		scheme = "https://"
	}
	for _, host := range strings.Split(u.Host, ",") {
		if host == "" {
			return Config{}, driver.Errorf(driver.ErrInvalid, "empty host in the host list")
		}
		addr, err := urlparam.HostPort(host, 2379)
		if err != nil {
			return Config{}, err
		}
		cfg.Endpoints = append(cfg.Endpoints, scheme+addr)
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
