package consul

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

// parseRaw parses raw as a URL and then as a Consul URL.
func parseRaw(t *testing.T, raw string) (Config, error) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", raw, err)
	}
	return ParseURL(u)
}

func TestParseURL(t *testing.T) {
	cfg, err := parseRaw(t, "consul://alice:pw@agent.example:8501?token=T&token-file=/t&dc=dc2&consul-namespace=ns&partition=p&ca-file=/ca.pem&server-name=agent&env=true&prefix=app/locks&session-ttl-min=5s&wait=1m&txn-max-req-len=1048576")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Address != "agent.example:8501" || cfg.Token != "T" || cfg.TokenFile != "/t" || cfg.Datacenter != "dc2" ||
		cfg.Namespace != "ns" || cfg.Partition != "p" || !cfg.UseEnvironment ||
		cfg.Username != "alice" || cfg.Password != "pw" || cfg.TLS == nil || *cfg.TLS != (TLSConfig{CAFile: "/ca.pem", ServerName: "agent"}) ||
		cfg.Prefix != "app/locks" || cfg.MinSessionTTL != 5*time.Second || cfg.WaitTime != time.Minute ||
		cfg.TxnMaxRequestSize != 1<<20 {
		t.Fatalf("ParseURL = %+v", cfg)
	}
	if cfg, err := parseRaw(t, "consul://host"); err != nil || cfg.Address != "host:8500" || cfg.TLS != nil {
		t.Fatalf("ParseURL without a port = %+v, %v", cfg, err)
	}
	if cfg, err := parseRaw(t, "consul://host?tls=true"); err != nil || cfg.TLS == nil || *cfg.TLS != (TLSConfig{}) {
		t.Fatalf("tls=true = %+v, %v; want TLS with the system's roots", cfg, err)
	}
	if cfg, err := parseRaw(t, "consul://host?tls=false"); err != nil || cfg.TLS != nil {
		t.Fatalf("tls=false = %+v, %v", cfg, err)
	}
	for _, bad := range []string{
		"consul://host?bogus=1",
		"consul://host?session-ttl=30s", // atomix.Open reads it; the driver has none
		"consul://host?namespace=ns",    // atomix.Open reads it; Consul's is consul-namespace
		"consul://host?tls-skip-verify=true",
		"consul://host?token=a&token=b",
		"consul://host?token=a%zz",
		"consul://host?token=a%",
		"consul://host/path",
		"consul://host?tls=maybe",
		"consul://host?ca-file=/ca.pem&tls=false", // order does not matter
		"consul://host?tls=false&ca-file=/ca.pem",
		"consul://host?cert-file=/c.pem",
		"consul://host?wait=-1s",
		"consul://host?wait=11m",
		"consul://host?consistency=linearizable",
		"consul://host?consistency=Stale",
		"consul://host?consistency=",
		"consul://host?consistency=stale&consistency=stale",
		"consul://host?session-ttl-min=10",
		"consul://host?session-ttl-min=NaN",
		"consul://host?txn-max-req-len=NaN",
		"consul://host?txn-max-req-len=Inf",
		"consul://host?txn-max-req-len=-1",
		"consul://host?txn-max-req-len=99999999999999999999",
		"consul://host?env=maybe",
		"etcd://host",
	} {
		if _, err := parseRaw(t, bad); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := driver.Open(context.Background(), "consul://host?bogus=1"); !errors.Is(err, driver.ErrInvalid) {
		t.Errorf("driver.Open with an unknown parameter: %v", err)
	}
}

// TestParseURLIsOrderIndependent parses the URL whose TLS setting depended
// on map iteration order when the parser ranged over url.Values.
func TestParseURLIsOrderIndependent(t *testing.T) {
	for range 200 {
		if _, err := parseRaw(t, "consul://host?ca-file=/ca.pem&tls=false&prefix=p&dc=d"); !errors.Is(err, driver.ErrInvalid) {
			t.Fatalf("ca-file with tls=false: %v, want the contradiction every time", err)
		}
		cfg, err := parseRaw(t, "consul://host?server-name=s&tls=true&prefix=p&dc=d")
		if err != nil || cfg.TLS == nil || cfg.TLS.ServerName != "s" {
			t.Fatalf("TLS parameters: %+v, %v", cfg, err)
		}
	}
}

// TestParseURLHidesSecrets checks that no error shows the token or the
// password.
func TestParseURLHidesSecrets(t *testing.T) {
	const secret = "tok-7d2a91"
	for _, raw := range []string{
		"consul://u:" + secret + "@h?token=" + secret + "&bogus=" + secret,
		"consul://u:" + secret + "@h?token=" + secret + "&token=" + secret,
		"consul://u:" + secret + "@h?token=" + secret + "%zz",
		"consul://u:" + secret + "@h?token=" + secret + "%",
		"consul://u:" + secret + "@h?token=" + secret + "&wait=" + secret,
		"consul://u:" + secret + "@h?token=" + secret + "&txn-max-req-len=" + secret,
		"consul://u:" + secret + "@h?token=" + secret + "&env=" + secret,
		"consul://u:" + secret + "@h/" + secret,
	} {
		_, err := parseRaw(t, raw)
		if !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalid", raw, err)
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("ParseURL(%q): error %q shows the token", raw, err)
		}
	}
}

// TestParseURLRefusesOutOfRangePorts checks that a port outside 1-65535 is
// ErrInvalid naming the host but not the password or the token.
func TestParseURLRefusesOutOfRangePorts(t *testing.T) {
	const secret = "tok-51c0de"
	for _, raw := range []string{
		"consul://u:" + secret + "@bad-host:0?token=" + secret,
		"consul://u:" + secret + "@bad-host:65536?token=" + secret,
		"consul://u:" + secret + "@bad-host:99999",
		"consul://u:" + secret + "@[::1]:70000",
	} {
		_, err := parseRaw(t, raw)
		if !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalid", raw, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "bad-host") && !strings.Contains(msg, "::1") || strings.Contains(msg, secret) {
			t.Errorf("ParseURL(%q): error %q should name the host and not the secret", raw, msg)
		}
	}
	for raw, want := range map[string]string{
		"consul://h:1":     "h:1",
		"consul://h:65535": "h:65535",
		"consul://[::1]":   "[::1]:8500",
	} {
		if cfg, err := parseRaw(t, raw); err != nil || cfg.Address != want {
			t.Errorf("ParseURL(%q) = %q, %v; want %q", raw, cfg.Address, err, want)
		}
	}
}
