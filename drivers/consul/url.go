package consul

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/atomix/go-client/driver"
)

// Scheme is the URL scheme the package registers with driver.Register.
const Scheme = "consul"

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
// 8500 when omitted); user and password set HTTP basic authentication. The
// path must be empty. Parameters:
//
//	token=T                  ACL token
//	token-file=PATH          file holding the ACL token (wins over token)
//	dc=NAME                  datacenter
//	namespace=NS             namespace (Consul Enterprise)
//	partition=P              admin partition (Consul Enterprise)
//	tls=true|false           use HTTPS (implied by any TLS parameter below)
//	ca-file=PATH             PEM bundle that verifies the agent
//	ca-path=DIR              directory of PEM files that verify the agent
//	cert-file=PATH           client certificate
//	key-file=PATH            client key
//	tls-server-name=NAME     name expected in the agent's certificate
//	tls-skip-verify=true     do not verify the agent's certificate (tests only)
//	env=true                 start from the CONSUL_* environment variables
//	prefix=PATH              KV prefix of every primitive (default atomix)
//	session-ttl-min=DURATION the servers' session_ttl_min (default 10s)
//	session-ttl=DURATION     TTL of sessions opened without one (default 15s)
//	wait=DURATION            longest wait of a blocking query (default 5m)
//	txn-max-req-len=BYTES    the servers' txn_max_req_len (default 524288)
//
// Durations are Go durations ("10s"). An unknown parameter, a repeated one
// or a malformed value is an error wrapping driver.ErrInvalid.
func ParseURL(u *url.URL) (Config, error) {
	var cfg Config
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w: consul url: "+format, append([]any{driver.ErrInvalid}, args...)...)
	}
	if u.Scheme != Scheme {
		return bad("scheme %q is not %q", u.Scheme, Scheme)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") {
		return bad("unexpected path %q (settings go in query parameters)", u.Path+u.Opaque)
	}
	if u.Host != "" {
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "8500")
		}
		cfg.Address = host
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	tlsWanted := false
	tlsConf := &TLSConfig{}
	for name, values := range u.Query() {
		if len(values) != 1 {
			return bad("parameter %q given %d times", name, len(values))
		}
		v := values[0]
		var err error
		switch name {
		case "token":
			cfg.Token = v
		case "token-file":
			cfg.TokenFile = v
		case "dc":
			cfg.Datacenter = v
		case "namespace":
			cfg.Namespace = v
		case "partition":
			cfg.Partition = v
		case "tls":
			tlsWanted, err = strconv.ParseBool(v)
		case "ca-file":
			tlsConf.CAFile, tlsWanted = v, true
		case "ca-path":
			tlsConf.CAPath, tlsWanted = v, true
		case "cert-file":
			tlsConf.CertFile, tlsWanted = v, true
		case "key-file":
			tlsConf.KeyFile, tlsWanted = v, true
		case "tls-server-name":
			tlsConf.ServerName, tlsWanted = v, true
		case "tls-skip-verify":
			tlsConf.InsecureSkipVerify, err = strconv.ParseBool(v)
			tlsWanted = tlsWanted || tlsConf.InsecureSkipVerify
		case "env":
			cfg.UseEnvironment, err = strconv.ParseBool(v)
		case "prefix":
			cfg.Prefix = v
		case "session-ttl-min":
			cfg.MinSessionTTL, err = parseDuration(v)
		case "session-ttl":
			cfg.DefaultSessionTTL, err = parseDuration(v)
		case "wait":
			cfg.WaitTime, err = parseDuration(v)
		case "txn-max-req-len":
			cfg.TxnMaxRequestSize, err = strconv.Atoi(v)
		default:
			return bad("unknown parameter %q", name)
		}
		if err != nil {
			return bad("parameter %s=%q: %v", name, v, err)
		}
	}
	if tlsWanted {
		cfg.TLS = tlsConf
	}
	return cfg, nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil && d <= 0 {
		err = fmt.Errorf("not positive")
	}
	return d, err
}
