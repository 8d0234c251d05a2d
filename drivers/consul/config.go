package consul

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/urlparam"
)

// DefaultAddress is the agent address used when Config.Address is empty.
const DefaultAddress = "127.0.0.1:8500"

// Config says how to reach a Consul agent: New dials it, ParseURL makes one
// from a consul:// URL, and NewWithClient is the way to a client configured
// otherwise. The zero value talks plain HTTP to 127.0.0.1:8500 without an
// ACL token.
//
// Only what is written here is used: the CONSUL_* environment variables
// that Consul's own tools read (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN,
// CONSUL_CACERT, ...) are ignored unless UseEnvironment is set.
type Config struct {
	// Address is the host:port of the agent's HTTP API. Empty means
	// DefaultAddress (or CONSUL_HTTP_ADDR with UseEnvironment).
	Address string
	// Scheme is "http" or "https". Empty means "https" when TLS is set,
	// else "http".
	Scheme string
	// Datacenter is the datacenter to use; empty means the agent's.
	Datacenter string
	// Token is the ACL token sent with every request.
	Token string
	// TokenFile names a file holding the ACL token; it wins over Token.
	TokenFile string
	// Namespace and Partition select a namespace and an admin partition
	// (Consul Enterprise only); empty means the token's default.
	Namespace string
	Partition string
	// Username and Password set HTTP basic authentication, for agents
	// behind a proxy that wants it.
	Username string
	Password string
	// TLS configures HTTPS. Nil means the system's roots and no client
	// certificate (when Scheme is "https").
	TLS *TLSConfig
	// HTTPClient, if set, is used for every request instead of a client
	// built from the fields above (TLS is then ignored).
	HTTPClient *http.Client
	// UseEnvironment starts from what the Consul API package reads from the
	// CONSUL_* environment variables (api.DefaultConfig); fields set here
	// override it.
	UseEnvironment bool

	// Options tune the driver itself.
	Options
}

// TLSConfig is the TLS setup for HTTPS, as files: the CAs that verify the
// agent's certificate (empty CAFile: the system's roots), the client
// certificate and key for agents that verify clients, the name expected in
// the agent's certificate (empty: the host of Address), and
// InsecureSkipVerify, for tests only. It is the type every driver uses for
// the TLS keys of its URL.
type TLSConfig = urlparam.TLSFiles

// Options tune the driver, whatever client it uses.
type Options struct {
	// Prefix is the KV path under which every primitive is stored
	// (default "atomix"). Drivers with different prefixes share nothing.
	Prefix string
	// MinSessionTTL is the smallest session TTL the servers accept
	// (their session_ttl_min, default 10s). Shorter TTLs asked of
	// NewSession are rounded up to it.
	MinSessionTTL time.Duration
	// WaitTime is the longest a blocking query (watches, lock waiters)
	// waits before asking again (default 5m; Consul caps it at 10m).
	WaitTime time.Duration
	// TxnMaxRequestSize is the servers' txn_max_req_len (default 512 KiB).
	// Writes go through /v1/txn, whose body carries values in base64, so
	// the largest value the driver accepts (Limits().MaxValueSize) is about
	// three quarters of it, less room for keys. The servers'
	// kv_max_value_size must not be smaller than that.
	TxnMaxRequestSize int
}

// Defaults of Options.
const (
	defaultPrefix            = "atomix"
	defaultMinSessionTTL     = 10 * time.Second
	defaultSessionTTL        = 15 * time.Second // when SessionOptions.TTL is zero
	maxSessionTTL            = 24 * time.Hour   // Consul's limit
	defaultWaitTime          = 5 * time.Minute
	defaultTxnMaxRequestSize = 512 << 10

	// maxKeySize bounds user keys, set elements and candidate IDs so that
	// a transaction's key paths (escaped, up to three times the bytes, and
	// repeated in a few operations) fit in txnOverhead.
	maxKeySize  = 2 << 10
	txnOverhead = 32 << 10
)

// withDefaults returns o with its zero fields set to their defaults, or an
// ErrInvalid error.
func (o Options) withDefaults() (Options, error) {
	o.Prefix = strings.Trim(o.Prefix, "/")
	if o.Prefix == "" {
		o.Prefix = defaultPrefix
	}
	for _, part := range strings.Split(o.Prefix, "/") {
		if part == "" || part == "." || part == ".." {
			return o, driver.Errorf(driver.ErrInvalid, "prefix %q has an empty, \".\" or \"..\" element", o.Prefix)
		}
	}
	if o.MinSessionTTL < 0 || o.WaitTime < 0 || o.TxnMaxRequestSize < 0 {
		return o, driver.Errorf(driver.ErrInvalid, "negative MinSessionTTL, WaitTime or TxnMaxRequestSize")
	}
	if o.MinSessionTTL == 0 {
		o.MinSessionTTL = defaultMinSessionTTL
	}
	if o.WaitTime == 0 {
		o.WaitTime = defaultWaitTime
	}
	if o.TxnMaxRequestSize == 0 {
		o.TxnMaxRequestSize = defaultTxnMaxRequestSize
	}
	if o.TxnMaxRequestSize < 2*txnOverhead {
		return o, driver.Errorf(driver.ErrInvalid, "TxnMaxRequestSize %d is below %d", o.TxnMaxRequestSize, 2*txnOverhead)
	}
	return o, nil
}

// New returns a driver for the agent that cfg describes. It does not
// contact the agent: an unreachable agent shows as ErrUnavailable on first
// use.
func New(cfg Config) (*Driver, error) {
	opts, err := cfg.Options.withDefaults()
	if err != nil {
		return nil, err
	}
	client, transport, err := cfg.client()
	if err != nil {
		return nil, err
	}
	d := newDriver(client, opts)
	d.transport = transport
	d.namespace, d.partition = cfg.Namespace, cfg.Partition
	return d, nil
}

// NewWithClient returns a driver that uses client, configured by its
// owner. Closing the driver does not close the client's connections.
func NewWithClient(client *api.Client, opts Options) (*Driver, error) {
	if client == nil {
		return nil, driver.Errorf(driver.ErrInvalid, "nil client")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return newDriver(client, o), nil
}

// client builds the Consul API client from the explicit settings only.
func (cfg Config) client() (*api.Client, *http.Transport, error) {
	var ac api.Config
	if cfg.UseEnvironment {
		ac = *api.DefaultConfig()
	}
	if cfg.Address != "" {
		if strings.Contains(cfg.Address, "://") {
			return nil, nil, driver.Errorf(driver.ErrInvalid, "address %q: give host:port and set Scheme", cfg.Address)
		}
		if _, _, err := net.SplitHostPort(cfg.Address); err != nil {
			return nil, nil, driver.Wrap(driver.ErrInvalid, err, "address %q", cfg.Address)
		}
		ac.Address = cfg.Address
	}
	if ac.Address == "" {
		ac.Address = DefaultAddress
	}
	switch {
	case cfg.Scheme != "":
		ac.Scheme = cfg.Scheme
	case cfg.TLS != nil:
		ac.Scheme = "https"
	case ac.Scheme == "":
		ac.Scheme = "http"
	}
	if ac.Scheme != "http" && ac.Scheme != "https" {
		return nil, nil, driver.Errorf(driver.ErrInvalid, "scheme %q is neither http nor https", ac.Scheme)
	}
	if cfg.Datacenter != "" {
		ac.Datacenter = cfg.Datacenter
	}
	if cfg.Token != "" {
		ac.Token = cfg.Token
	}
	if cfg.TokenFile != "" {
		data, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, nil, driver.Wrap(driver.ErrInvalid, err, "token file")
		}
		ac.Token = strings.TrimSpace(string(data))
		ac.TokenFile = ""
	}
	if cfg.Namespace != "" {
		ac.Namespace = cfg.Namespace
	}
	if cfg.Partition != "" {
		ac.Partition = cfg.Partition
	}
	if cfg.Username != "" || cfg.Password != "" {
		ac.HttpAuth = &api.HttpBasicAuth{Username: cfg.Username, Password: cfg.Password}
	}

	var transport *http.Transport
	if cfg.HTTPClient != nil {
		ac.HttpClient = cfg.HTTPClient
	} else {
		var tlsConfig *tls.Config
		var err error
		if cfg.TLS != nil {
			tlsConfig, err = cfg.TLS.Config()
		} else {
			// The environment's TLS settings (CONSUL_CACERT, …) with
			// UseEnvironment, else none.
			if tlsConfig, err = api.SetupTLSConfig(&ac.TLSConfig); err != nil {
				err = driver.Wrap(driver.ErrInvalid, err, "TLS settings of the environment")
			}
		}
		if err != nil {
			return nil, nil, err
		}
		transport = newTransport()
		transport.TLSClientConfig = tlsConfig
		ac.Transport = transport
		ac.HttpClient = &http.Client{Transport: transport}
	}
	if !cfg.UseEnvironment {
		// api.NewClient fills the token, namespace and partition it was
		// not given from the environment; pin them to what was asked.
		ac.HttpClient = pinned(ac.HttpClient, ac.Token, ac.Namespace, ac.Partition)
	}
	client, err := api.NewClient(&ac)
	if err != nil {
		return nil, nil, driver.Wrap(driver.ErrInvalid, err, "")
	}
	return client, transport, nil
}

// newTransport is a pooled transport that keeps enough idle connections for
// the blocking queries of watches and lock waiters.
//
// It speaks HTTP/1.1, with and without TLS. Over HTTP/2 an agent's refusal
// of the client certificate (a TLS alert that TLS 1.3 delivers after the
// handshake) reaches the caller only as "client conn could not be
// established", indistinguishable from a lost connection, so a write would
// be reported ambiguous instead of refused; and connection use stays the
// same whether TLS is on or not.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// A non-nil empty map turns HTTP/2 off.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
}
