package etcd

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/atomix/go-client/driver"
)

// Scheme is the URL scheme the package registers with driver.Register.
const Scheme = "etcd"

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
//	etcd://[user:password@]host:port[,host:port...][?param=value&...]
//
// The hosts are the cluster's client endpoints. The user information, if
// present, is the username and password for etcd's authentication. The
// query parameters are:
//
//	tls=true                  connect with TLS (implied by ca, cert, key, server-name
//	                          and insecure-skip-verify); without ca, the system's roots
//	ca=FILE                   PEM file of the CAs that sign the servers' certificates
//	cert=FILE, key=FILE       PEM client certificate and key
//	server-name=NAME          name checked in the servers' certificates
//	insecure-skip-verify=true do not verify the servers' certificates (tests only)
//	dial-timeout=DURATION     Config.DialTimeout, e.g. 5s
//	keepalive-time=DURATION   Config.KeepAliveTime
//	keepalive-timeout=DURATION Config.KeepAliveTimeout
//	prefix=STRING             Config.Prefix, the key prefix (default "atomix/")
//	session-ttl=DURATION      Config.SessionTTL
//
// Durations use time.ParseDuration's syntax. An unknown parameter, a
// repeated one, or a malformed value is an error wrapping ErrInvalid.
func ParseURL(u *url.URL) (Config, error) {
	invalid := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("etcd: url %q: %w: %s", u.Redacted(), driver.ErrInvalid, fmt.Sprintf(format, args...))
	}
	if u.Scheme != Scheme {
		return invalid("scheme is %q, not %q", u.Scheme, Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return invalid("want etcd://host:port[,host:port...]")
	}
	if u.Path != "" && u.Path != "/" {
		return invalid("unexpected path %q", u.Path)
	}
	var cfg Config
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	useTLS := false
	for name, values := range u.Query() {
		if len(values) != 1 {
			return invalid("parameter %q given %d times", name, len(values))
		}
		v := values[0]
		var err error
		switch name {
		case "tls":
			useTLS, err = strconv.ParseBool(v)
		case "ca":
			cfg.CAFile = v
		case "cert":
			cfg.CertFile = v
		case "key":
			cfg.KeyFile = v
		case "server-name":
			cfg.ServerName = v
		case "insecure-skip-verify":
			cfg.InsecureSkipVerify, err = strconv.ParseBool(v)
		case "dial-timeout":
			cfg.DialTimeout, err = parseDuration(v)
		case "keepalive-time":
			cfg.KeepAliveTime, err = parseDuration(v)
		case "keepalive-timeout":
			cfg.KeepAliveTimeout, err = parseDuration(v)
		case "prefix":
			cfg.Prefix = v
		case "session-ttl":
			cfg.SessionTTL, err = parseDuration(v)
		default:
			return invalid("unknown parameter %q (known: tls, ca, cert, key, server-name, insecure-skip-verify, dial-timeout, keepalive-time, keepalive-timeout, prefix, session-ttl)", name)
		}
		if err != nil {
			return invalid("parameter %s=%q: %v", name, v, err)
		}
	}
	useTLS = useTLS || cfg.CAFile != "" || cfg.CertFile != "" || cfg.ServerName != "" || cfg.InsecureSkipVerify
	scheme := "http://"
	if useTLS {
		scheme = "https://"
	}
	for _, host := range strings.Split(u.Host, ",") {
		if host == "" {
			return invalid("empty host")
		}
		if !strings.Contains(host, ":") {
			host += ":2379"
		}
		cfg.Endpoints = append(cfg.Endpoints, scheme+host)
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = fmt.Errorf("negative duration")
	}
	return d, err
}
