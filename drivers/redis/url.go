package redis

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/urlparam"
)

// The URL schemes the package registers with driver.Register.
const (
	// Scheme is plain TCP: redis://[user:password@]host[:port][/db][?param=value&...]
	Scheme = "redis"
	// SchemeTLS is TLS: rediss://..., with the same syntax.
	SchemeTLS = "rediss"
)

// Bounds of the URL's parameters.
const (
	maxURLDuration = 24 * time.Hour
	maxURLConns    = 1 << 16
	maxURLRetries  = 100
	// maxURLWaitReplicas bounds wait-replicas: more replicas than this are
	// a typo, not a deployment.
	maxURLWaitReplicas = 100
)

func init() {
	driver.Register(Scheme, Open)
	driver.Register(SchemeTLS, Open)
}

// Open opens a driver from a redis:// or rediss:// URL, as New does with
// what ParseURL returns. The driver owns its client.
func Open(_ context.Context, u *url.URL) (driver.Driver, error) {
	clientOpts, opts, err := ParseURL(u)
	if err != nil {
		return nil, err
	}
	return New(clientOpts, opts)
}

// ParseURL returns the client options and the driver options that a
// redis:// or rediss:// URL describes, for New.
//
// The host part is one address; the port defaults to 6379 and must be in
// 1-65535, as in every address. More addresses
// (a Redis Cluster's seed nodes, or Sentinels) go in addr parameters, since
// Go's URL parser refuses a host list with ports: two or more addresses
// make a cluster client. The user and password authenticate (Redis ACL, or
// only a password for requirepass). The path selects the database number
// (not in a cluster).
//
// Query parameters (durations in time.ParseDuration's syntax, such as
// "500ms", at most 24h):
//
//	addr=host:port           another address; the one parameter that may repeat
//	cluster=true             use the Redis Cluster protocol even with one address
//	sentinel-master=name     the addresses are Sentinels; connect to this master
//	sentinel-username=u      the Sentinels' user
//	sentinel-password=p      the Sentinels' password
//	password-file=path       file holding the password (instead of the URL's)
//	sentinel-password-file=path  file holding the Sentinels' password
//	client-name=name         CLIENT SETNAME of every connection
//	protocol=2|3             RESP version (default 3)
//	dial-timeout=d           connect timeout (default 5s)
//	read-timeout=d           reply timeout (default 3s)
//	write-timeout=d          send timeout (default: read-timeout)
//	pool-size=n              connections per node (default 10 per CPU)
//	min-idle-conns=n         idle connections kept open
//	max-retries=n            retries of reads and idempotent writes (default 3; -1 none);
//	                         writes that are not idempotent are never retried
//	key-prefix=p             Options.KeyPrefix (default "atomix")
//	max-key-size=n           Options.MaxKeySize in bytes (default 64 KiB)
//	max-value-size=n         Options.MaxValueSize in bytes (default 4 MiB)
//	wait-replicas=n          Options.WaitReplicas: a lock acquisition waits for n replicas (WAIT)
//	wait-timeout=d           Options.WaitTimeout (default 1s)
//
// and the TLS keys every driver shares (package driver/urlparam): tls,
// ca-file, cert-file, key-file, server-name, insecure-skip-verify. TLS is
// on with rediss://, with tls=true, or with any other TLS key; rediss://
// with tls=false is a contradiction. Without server-name, the name checked
// is the host of the only address.
//
// A password file is read once, when the URL is parsed; one trailing
// newline ("\n" or "\r\n") is dropped and the rest is the password. A
// password both in the URL and in a file, an empty file name, or a file
// that cannot be read is an error wrapping ErrInvalid that names the
// parameter; no error shows a file's content.
//
// An unknown parameter, a repeated one or a malformed value is an error
// wrapping ErrInvalid that names the parameter and never shows a value.
// atomix.Open reads namespace= and session-ttl= itself; the driver never
// sees them. Command deadlines follow the caller's context
// (ContextTimeoutEnabled).
func ParseURL(u *url.URL) (*goredis.UniversalOptions, Options, error) {
	var opts Options
	if u.Scheme != Scheme && u.Scheme != SchemeTLS {
		return nil, opts, driver.Errorf(driver.ErrInvalid, "scheme must be %q or %q", Scheme, SchemeTLS)
	}
	c := &goredis.UniversalOptions{ContextTimeoutEnabled: true}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if u.Host != "" {
		for _, h := range strings.Split(u.Host, ",") {
			a, err := withPort(h)
			if err != nil {
				return nil, opts, err
			}
			c.Addrs = append(c.Addrs, a)
		}
	}
	if p := strings.TrimPrefix(u.Path, "/"); p != "" {
		db, err := strconv.Atoi(p)
		if err != nil || db < 0 {
			return nil, opts, driver.Errorf(driver.ErrInvalid, "the path must be a database number")
		}
		c.DB = db
	}

	q, err := urlparam.Parse(u.RawQuery)
	if err != nil {
		return nil, opts, err
	}
	for _, a := range q.Strings("addr") {
		full, err := withPort(a)
		if err != nil {
			return nil, opts, err
		}
		c.Addrs = append(c.Addrs, full)
	}
	c.IsClusterMode = q.Bool("cluster")
	c.MasterName = q.String("sentinel-master")
	c.SentinelUsername = q.String("sentinel-username")
	c.SentinelPassword = q.String("sentinel-password")
	passwordFile := q.SecretFile("password-file")
	sentinelPasswordFile := q.SecretFile("sentinel-password-file")
	c.ClientName = q.String("client-name")
	c.Protocol = q.Int("protocol", 2, 3)
	c.DialTimeout = q.Duration("dial-timeout", maxURLDuration)
	c.ReadTimeout = q.Duration("read-timeout", maxURLDuration)
	c.WriteTimeout = q.Duration("write-timeout", maxURLDuration)
	c.PoolSize = q.Int("pool-size", 0, maxURLConns)
	c.MinIdleConns = q.Int("min-idle-conns", 0, maxURLConns)
	c.MaxRetries = q.Int("max-retries", -1, maxURLRetries)
	opts.KeyPrefix = q.String("key-prefix")
	opts.MaxKeySize = q.Int("max-key-size", 0, maxRedisSize)
	opts.MaxValueSize = q.Int("max-value-size", 0, maxRedisSize)
	opts.WaitReplicas = q.Int("wait-replicas", 0, maxURLWaitReplicas)
	opts.WaitTimeout = q.Duration("wait-timeout", maxURLDuration)
	c.TLSConfig = q.TLS(u.Scheme == SchemeTLS)
	if err := q.Done(); err != nil {
		return nil, opts, err
	}
	if q.Has("password-file") {
		if _, set := userPassword(u); set {
			return nil, opts, driver.Errorf(driver.ErrInvalid, "password-file: the URL also has a password")
		}
		c.Password = passwordFile
	}
	if q.Has("sentinel-password-file") {
		if q.Has("sentinel-password") {
			return nil, opts, driver.Errorf(driver.ErrInvalid, "sentinel-password-file: sentinel-password is also given")
		}
		c.SentinelPassword = sentinelPasswordFile
	}

	if len(c.Addrs) == 0 {
		c.Addrs = []string{"localhost:6379"}
	}
	if c.DB != 0 && (len(c.Addrs) > 1 || c.IsClusterMode) && c.MasterName == "" {
		return nil, opts, driver.Errorf(driver.ErrInvalid, "a Redis Cluster has no database %d", c.DB)
	}
	if c.TLSConfig != nil && c.TLSConfig.ServerName == "" && len(c.Addrs) == 1 && c.MasterName == "" {
		c.TLSConfig.ServerName, _, _ = net.SplitHostPort(c.Addrs[0])
	}
	return c, opts, nil
}

// userPassword returns the password of the URL's user information and
// whether there is one.
func userPassword(u *url.URL) (string, bool) {
	if u.User == nil {
		return "", false
	}
	return u.User.Password()
}

// withPort adds the default port to an address without one and checks
// that its port is in 1-65535.
func withPort(addr string) (string, error) {
	return urlparam.HostPort(addr, 6379)
}
