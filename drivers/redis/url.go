package redis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// The URL schemes the package registers with driver.Register.
const (
	// Scheme is plain TCP: redis://[user:password@]host[:port][/db][?param=value&...]
	Scheme = "redis"
	// SchemeTLS is TLS: rediss://..., with the same syntax.
	SchemeTLS = "rediss"
)

func init() {
	driver.Register(Scheme, Open)
	driver.Register(SchemeTLS, Open)
}

// Open opens a driver from a redis:// or rediss:// URL. The driver owns
// its client.
//
// The host part is one address; the port defaults to 6379. More addresses
// (a Redis Cluster's seed nodes, or Sentinels) go in addr parameters, since
// Go's URL parser refuses a host list with ports: two or more addresses
// make a cluster client. The user and password authenticate (Redis ACL, or
// only a password for requirepass). The path selects the database number
// (not in a cluster).
//
// Query parameters (an unknown one is an error wrapping ErrInvalid;
// durations are Go durations such as "500ms", or plain seconds):
//
//	addr=host:port           another address; may repeat
//	cluster=true             use the Redis Cluster protocol even with one address
//	sentinel_master=name     the addresses are Sentinels; connect to this master
//	sentinel_username=u      the Sentinels' user
//	sentinel_password=p      the Sentinels' password
//	client_name=name         CLIENT SETNAME of every connection
//	protocol=2|3             RESP version (default 3)
//	dial_timeout=d           connect timeout (default 5s)
//	read_timeout=d           reply timeout (default 3s)
//	write_timeout=d          send timeout (default: read_timeout)
//	pool_size=n              connections per node (default 10 per CPU)
//	min_idle_conns=n         idle connections kept open
//	max_retries=n            retries of reads and idempotent writes (default 3; -1 none);
//	                         writes that are not idempotent are never retried
//	tls_ca=file              PEM file of the CAs to trust (rediss only)
//	tls_cert=file            PEM client certificate (rediss only; with tls_key)
//	tls_key=file             PEM client key (rediss only)
//	tls_server_name=name     the name to verify the server's certificate against (rediss only)
//	tls_insecure_skip_verify=true   do not verify the server's certificate (rediss only; tests only)
//	key_prefix=p             Options.KeyPrefix (default "atomix")
//	session_ttl=d            Options.SessionTTL (default 10s)
//	max_key_size=n           Options.MaxKeySize in bytes (default 64 KiB)
//	max_value_size=n         Options.MaxValueSize in bytes (default 4 MiB)
//
// Command deadlines follow the caller's context (ContextTimeoutEnabled).
func Open(_ context.Context, u *url.URL) (driver.Driver, error) {
	clientOpts, opts, err := parseURL(u)
	if err != nil {
		return nil, err
	}
	return New(clientOpts, opts)
}

// parseURL turns a redis:// or rediss:// URL into options.
func parseURL(u *url.URL) (*goredis.UniversalOptions, Options, error) {
	var opts Options
	bad := func(format string, args ...any) error {
		return fmt.Errorf("redis: url %q: %w: %s", u.Redacted(), driver.ErrInvalid, fmt.Sprintf(format, args...))
	}
	if u.Scheme != Scheme && u.Scheme != SchemeTLS {
		return nil, opts, bad("scheme must be %q or %q", Scheme, SchemeTLS)
	}
	useTLS := u.Scheme == SchemeTLS
	c := &goredis.UniversalOptions{ContextTimeoutEnabled: true}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if u.Host != "" {
		for _, h := range strings.Split(u.Host, ",") {
			a, err := withPort(h)
			if err != nil {
				return nil, opts, bad("address %q: %v", h, err)
			}
			c.Addrs = append(c.Addrs, a)
		}
	}
	if p := strings.TrimPrefix(u.Path, "/"); p != "" {
		db, err := strconv.Atoi(p)
		if err != nil || db < 0 {
			return nil, opts, bad("the path must be a database number, not %q", u.Path)
		}
		c.DB = db
	}

	var tlsCA, tlsCert, tlsKey string
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	for name, values := range u.Query() {
		v := values[len(values)-1]
		var err error
		switch name {
		case "addr":
			for _, a := range values {
				var full string
				if full, err = withPort(a); err != nil {
					break
				}
				c.Addrs = append(c.Addrs, full)
			}
		case "cluster":
			c.IsClusterMode, err = strconv.ParseBool(v)
		case "sentinel_master":
			c.MasterName = v
		case "sentinel_username":
			c.SentinelUsername = v
		case "sentinel_password":
			c.SentinelPassword = v
		case "client_name":
			c.ClientName = v
		case "protocol":
			c.Protocol, err = strconv.Atoi(v)
			if err == nil && c.Protocol != 2 && c.Protocol != 3 {
				err = fmt.Errorf("want 2 or 3")
			}
		case "dial_timeout":
			c.DialTimeout, err = parseDuration(v)
		case "read_timeout":
			c.ReadTimeout, err = parseDuration(v)
		case "write_timeout":
			c.WriteTimeout, err = parseDuration(v)
		case "pool_size":
			c.PoolSize, err = parseCount(v)
		case "min_idle_conns":
			c.MinIdleConns, err = parseCount(v)
		case "max_retries":
			c.MaxRetries, err = strconv.Atoi(v)
			if err == nil && c.MaxRetries < -1 {
				err = fmt.Errorf("want -1 or more")
			}
		case "tls_ca":
			tlsCA = v
		case "tls_cert":
			tlsCert = v
		case "tls_key":
			tlsKey = v
		case "tls_server_name":
			tlsConf.ServerName = v
		case "tls_insecure_skip_verify":
			tlsConf.InsecureSkipVerify, err = strconv.ParseBool(v)
		case "key_prefix":
			opts.KeyPrefix = v
		case "session_ttl":
			opts.SessionTTL, err = parseDuration(v)
		case "max_key_size":
			opts.MaxKeySize, err = parseCount(v)
		case "max_value_size":
			opts.MaxValueSize, err = parseCount(v)
		default:
			return nil, opts, bad("unknown parameter %q", name)
		}
		if err != nil {
			return nil, opts, bad("parameter %s=%q: %v", name, v, err)
		}
		if strings.HasPrefix(name, "tls_") && !useTLS {
			return nil, opts, bad("parameter %s needs the %s:// scheme", name, SchemeTLS)
		}
	}
	if len(c.Addrs) == 0 {
		c.Addrs = []string{"localhost:6379"}
	}
	if c.DB != 0 && (len(c.Addrs) > 1 || c.IsClusterMode) && c.MasterName == "" {
		return nil, opts, bad("a Redis Cluster has no database %d", c.DB)
	}
	if useTLS {
		if tlsCA != "" {
			pem, err := os.ReadFile(tlsCA)
			if err != nil {
				return nil, opts, bad("tls_ca: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, opts, bad("tls_ca: no PEM certificate in %s", tlsCA)
			}
			tlsConf.RootCAs = pool
		}
		if (tlsCert == "") != (tlsKey == "") {
			return nil, opts, bad("tls_cert and tls_key go together")
		}
		if tlsCert != "" {
			cert, err := tls.LoadX509KeyPair(tlsCert, tlsKey)
			if err != nil {
				return nil, opts, bad("tls_cert/tls_key: %v", err)
			}
			tlsConf.Certificates = []tls.Certificate{cert}
		}
		if tlsConf.ServerName == "" && len(c.Addrs) == 1 && c.MasterName == "" {
			tlsConf.ServerName, _, _ = net.SplitHostPort(c.Addrs[0])
		}
		c.TLSConfig = tlsConf
	}
	return c, opts, nil
}

// withPort adds the default port to an address without one.
func withPort(addr string) (string, error) {
	if addr == "" {
		return "", fmt.Errorf("empty address")
	}
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr, nil
	}
	if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		return addr + ":6379", nil
	}
	if strings.Count(addr, ":") > 0 {
		return "", fmt.Errorf("malformed address")
	}
	return net.JoinHostPort(addr, "6379"), nil
}

// parseDuration parses a Go duration or a number of seconds.
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("negative duration")
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		return 0, fmt.Errorf("negative duration")
	}
	return d, err
}

// parseCount parses a non-negative integer.
func parseCount(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err == nil && n < 0 {
		return 0, fmt.Errorf("negative number")
	}
	return n, err
}
