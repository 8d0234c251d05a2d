package redis

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// parseRaw parses raw as a URL and then as a Redis URL.
func parseRaw(t *testing.T, raw string) (*url.URL, error) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", raw, err)
	}
	_, _, err = ParseURL(u)
	return u, err
}

func TestParseURL(t *testing.T) {
	u, _ := url.Parse("redis://user:secret@h1:7000/3?addr=h2&addr=h3:7002&client-name=me&protocol=2&dial-timeout=2s&read-timeout=500ms&write-timeout=1s&pool-size=4&min-idle-conns=1&max-retries=-1&key-prefix=app&max-key-size=100&max-value-size=1000&sentinel-master=mymaster&sentinel-username=su&sentinel-password=sp&cluster=false")
	c, o, err := ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Addrs, []string{"h1:7000", "h2:6379", "h3:7002"}) || c.Username != "user" || c.Password != "secret" ||
		c.DB != 3 || c.ClientName != "me" || c.Protocol != 2 || c.DialTimeout != 2*time.Second ||
		c.ReadTimeout != 500*time.Millisecond || c.WriteTimeout != time.Second || c.PoolSize != 4 || c.MinIdleConns != 1 ||
		c.MaxRetries != -1 || c.MasterName != "mymaster" || c.SentinelUsername != "su" || c.SentinelPassword != "sp" ||
		c.IsClusterMode || !c.ContextTimeoutEnabled || c.TLSConfig != nil {
		t.Fatalf("client options %+v", c)
	}
	if o.KeyPrefix != "app" || o.MaxKeySize != 100 || o.MaxValueSize != 1000 {
		t.Fatalf("options %+v", o)
	}

	for _, raw := range []string{
		"rediss://localhost?server-name=redis.example&insecure-skip-verify=true",
		"redis://localhost?tls=true&server-name=redis.example&insecure-skip-verify=true",
		"redis://localhost?server-name=redis.example&insecure-skip-verify=true",
	} {
		u, _ = url.Parse(raw)
		c, _, err = ParseURL(u)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if c.TLSConfig == nil || c.TLSConfig.ServerName != "redis.example" || !c.TLSConfig.InsecureSkipVerify || c.Addrs[0] != "localhost:6379" {
			t.Fatalf("%s: TLS options %+v %+v", raw, c, c.TLSConfig)
		}
	}
	u, _ = url.Parse("rediss://db.example:7000")
	if c, _, err = ParseURL(u); err != nil || c.TLSConfig == nil || c.TLSConfig.ServerName != "db.example" {
		t.Fatalf("rediss without server-name: %+v, %v; want the host's name", c, err)
	}

	for _, bad := range []string{
		"redis://h?unknown=1",
		"redis://h?session-ttl=2s", // atomix.Open reads it; the driver has none
		"redis://h?key_prefix=x",   // the old spelling
		"redis://h?key-prefix=a&key-prefix=b",
		"redis://h?key-prefix=%zz",
		"redis://h?key-prefix=a%",
		"redis://h/notanumber",
		"redis://h1/2?addr=h2", // a cluster has no database 2
		"redis://h?addr=",
		"redis://h?protocol=4",
		"redis://h?protocol=NaN",
		"redis://h?pool-size=-1",
		"redis://h?pool-size=Inf",
		"redis://h?max-retries=-2",
		"redis://h?max-value-size=99999999999999999999",
		"redis://h?max-key-size=1e3",
		"redis://h?dial-timeout=2", // a duration has a unit
		"redis://h?read-timeout=-1s",
		"redis://h?write-timeout=25h",
		"redis://h?cluster=maybe",
		"redis://h?key-prefix=%7Bx", // a brace, refused by New
		"rediss://h?tls=false",
		"redis://h?tls=false&ca-file=/x",
		"rediss://h?cert-file=/nonexistent",
		"rediss://h?ca-file=/nonexistent",
		"http://h",
	} {
		u, err := url.Parse(bad)
		if err != nil {
			t.Fatalf("%s: %v", bad, err)
		}
		if _, err = Open(t.Context(), u); !isKind(err, driver.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

// TestParseURLHidesSecrets checks that no error shows a password.
func TestParseURLHidesSecrets(t *testing.T) {
	const secret = "pw-0f5e1c"
	for _, raw := range []string{
		"redis://u:" + secret + "@h?bogus=" + secret,
		"redis://u:" + secret + "@h?sentinel-password=" + secret + "&sentinel-password=" + secret,
		"redis://u:" + secret + "@h?sentinel-password=" + secret + "%zz",
		"redis://u:" + secret + "@h?sentinel-password=" + secret + "&protocol=" + secret,
		"redis://u:" + secret + "@h?pool-size=" + secret,
		"redis://u:" + secret + "@h/" + secret,
		"redis://u:" + secret + "@h?addr=" + secret + ":1:2",
	} {
		_, err := parseRaw(t, raw)
		if !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalid", raw, err)
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("ParseURL(%q): error %q shows the password", raw, err)
		}
	}
}

// TestOpenURL opens the test server through the registered scheme.
func TestOpenURL(t *testing.T) {
	ctx := testContext(t)
	d, err := driver.Open(ctx, "redis://"+testbackend.Redis(t)+"/0?key-prefix=urltest")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	c, err := d.OpenCounter(ctx, testID(t, "c"))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.Add(ctx, 5); err != nil || v != 5 {
		t.Fatalf("Add = %d, %v", v, err)
	}
}

// TestParseURLRefusesOutOfRangePorts checks that a port outside 1-65535,
// in the host part or an addr parameter, is ErrInvalid naming the host but
// not the password.
func TestParseURLRefusesOutOfRangePorts(t *testing.T) {
	const secret = "pw-51c0de"
	for _, raw := range []string{
		"redis://u:" + secret + "@bad-host:0",
		"redis://u:" + secret + "@bad-host:65536",
		"rediss://u:" + secret + "@bad-host:99999",
		"redis://u:" + secret + "@h?addr=bad-host:70000",
		"redis://u:" + secret + "@h?addr=h2:7000&addr=bad-host:0",
		"redis://u:" + secret + "@h?addr=bad-host:-1",
	} {
		_, err := parseRaw(t, raw)
		if !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalid", raw, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "bad-host") || strings.Contains(msg, secret) {
			t.Errorf("ParseURL(%q): error %q should name the host and not the password", raw, msg)
		}
	}
}
