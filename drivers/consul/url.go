package consul

import (
	"context"
	"net/url"
	"time"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/urlparam"
)

// Scheme is the URL scheme the package registers with driver.Register.
const Scheme = "consul"

// Bounds of the URL's parameters.
const (
	maxURLWait      = 10 * time.Minute // Consul's own cap on a blocking query
	maxURLTxnReqLen = 64 << 20
)

func init() {
	driver.Register(Scheme, func(ctx context.Context, u *url.URL) (driver.Driver, error) {
		cfg, err := ParseURL(u)
		if err != nil {
			return nil, err
		}
		return New(cfg)
	})
}

// ParseURL turns a consul:// URL into a Config:
//
//	consul://[user:password@]host[:port][?parameter=value&...]
//
// The host and port are the agent's HTTP API (default 127.0.0.1:8500; port
// 8500 when omitted, and in 1-65535); user and password set HTTP basic
// authentication. The path must be empty. Parameters:
//
//	token=T                     ACL token
//	token-file=PATH             file holding the ACL token (wins over token)
//	dc=NAME                     datacenter
//	consul-namespace=NS         Consul namespace (Consul Enterprise)
//	partition=P                 admin partition (Consul Enterprise)
//	tls=true|false              use HTTPS (implied by every other TLS parameter)
//	ca-file=PATH                PEM bundle that verifies the agent
//	cert-file=PATH              client certificate (with key-file)
//	key-file=PATH               client key (with cert-file)
//	server-name=NAME            name expected in the agent's certificate
//	insecure-skip-verify=true   do not verify the agent's certificate (tests only)
//	env=true                    start from the CONSUL_* environment variables
//	prefix=PATH                 KV prefix of every primitive (default atomix)
//	session-ttl-min=DURATION    the servers' session_ttl_min (default 10s, at most 24h)
//	wait=DURATION               longest wait of a blocking query (default 15s, at most 10m)
//	consistency=MODE            read mode: consistent (default), default or stale
//	txn-max-req-len=BYTES       the servers' txn_max_req_len (default 524288)
//
// The TLS parameters are the ones every driver shares (package
// driver/urlparam); tls=false with another TLS parameter is a
// contradiction. Durations are Go durations ("10s"). An unknown parameter,
// a repeated one or a malformed value is an error wrapping
// driver.ErrInvalid that names the parameter and never shows a value.
//
// atomix.Open reads namespace= (the atomix namespace, not Consul's) and
// session-ttl= itself; the driver never sees them.
func ParseURL(u *url.URL) (Config, error) {
	var cfg Config
	if u.Scheme != Scheme {
		return Config{}, driver.Errorf(driver.ErrInvalid, "scheme %q is not %q", u.Scheme, Scheme)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") {
		return Config{}, driver.Errorf(driver.ErrInvalid, "a consul URL has no path (settings go in query parameters)")
	}
	if u.Host != "" {
		addr, err := urlparam.HostPort(u.Host, 8500)
		if err != nil {
			return Config{}, err
		}
		cfg.Address = addr
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	q, err := urlparam.Parse(u.RawQuery)
	if err != nil {
		return Config{}, err
	}
	cfg.Token = q.String("token")
	cfg.TokenFile = q.String("token-file")
	cfg.Datacenter = q.String("dc")
	cfg.Namespace = q.String("consul-namespace")
	cfg.Partition = q.String("partition")
	cfg.TLS = q.TLSFiles(false)
	cfg.UseEnvironment = q.Bool("env")
	cfg.Prefix = q.String("prefix")
	cfg.MinSessionTTL = q.Duration("session-ttl-min", maxSessionTTL)
	cfg.WaitTime = q.Duration("wait", maxURLWait)
	cfg.TxnMaxRequestSize = q.Int("txn-max-req-len", 0, maxURLTxnReqLen)
	cfg.Consistency = Consistency(q.OneOf("consistency", string(ConsistencyConsistent), string(ConsistencyDefault), string(ConsistencyStale)))
	if err := q.Done(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
