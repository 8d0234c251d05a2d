package redis

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

func TestParseURL(t *testing.T) {
	parse := func(raw string) (*url.URL, error) { return url.Parse(raw) }
	u, err := parse("redis://user:secret@h1:7000/3?addr=h2&addr=h3:7002&client_name=me&protocol=2&dial_timeout=2&read_timeout=500ms&pool_size=4&max_retries=-1&key_prefix=app&session_ttl=5s&max_key_size=100&max_value_size=1000&sentinel_master=mymaster")
	if err != nil {
		t.Fatal(err)
	}
	c, o, err := parseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Addrs, []string{"h1:7000", "h2:6379", "h3:7002"}) || c.Username != "user" || c.Password != "secret" ||
		c.DB != 3 || c.ClientName != "me" || c.Protocol != 2 || c.DialTimeout != 2*time.Second ||
		c.ReadTimeout != 500*time.Millisecond || c.PoolSize != 4 || c.MaxRetries != -1 || c.MasterName != "mymaster" ||
		!c.ContextTimeoutEnabled || c.TLSConfig != nil {
		t.Fatalf("client options %+v", c)
	}
	if o.KeyPrefix != "app" || o.SessionTTL != 5*time.Second || o.MaxKeySize != 100 || o.MaxValueSize != 1000 {
		t.Fatalf("options %+v", o)
	}

	u, _ = parse("rediss://localhost?tls_server_name=redis.example&tls_insecure_skip_verify=true")
	c, _, err = parseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	if c.TLSConfig == nil || c.TLSConfig.ServerName != "redis.example" || !c.TLSConfig.InsecureSkipVerify || c.Addrs[0] != "localhost:6379" {
		t.Fatalf("TLS options %+v %+v", c, c.TLSConfig)
	}

	for _, bad := range []string{
		"redis://h?unknown=1",
		"redis://h?tls_server_name=x", // TLS parameter without rediss
		"redis://h/notanumber",
		"redis://h1?addr=h2&db=2",
		"redis://h1/2?addr=h2", // a cluster has no database 2
		"redis://h?protocol=4",
		"redis://h?session_ttl=-1s",
		"redis://h?key_prefix=%7Bx",
		"rediss://h?tls_cert=/nonexistent",
		"rediss://h?tls_ca=/nonexistent",
	} {
		u, err := parse(bad)
		if err != nil {
			t.Fatalf("%s: %v", bad, err)
		}
		_, err = Open(context.Background(), u)
		if !isKind(err, driver.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

// TestOpenURL opens the test server through the registered scheme.
func TestOpenURL(t *testing.T) {
	ctx := testContext(t)
	d, err := driver.Open(ctx, "redis://"+testbackend.Redis(t)+"/0?session_ttl=2s")
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
	s, err := d.NewSession(ctx, driver.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ttl := s.(*session).ttl; ttl != 2*time.Second {
		t.Fatalf("default session TTL %v, want the URL's 2s", ttl)
	}
}
