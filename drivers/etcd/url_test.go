package etcd

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

func TestParseURL(t *testing.T) {
	parse := func(raw string) (Config, error) {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", raw, err)
		}
		return ParseURL(u)
	}
	cfg, err := parse("etcd://alice:s3cret@etcd-0:2379,etcd-1,etcd-2:2379?dial-timeout=2s&prefix=app/&session-ttl=15s&keepalive-time=30s&keepalive-timeout=7s")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Endpoints:        []string{"http://etcd-0:2379", "http://etcd-1:2379", "http://etcd-2:2379"},
		Username:         "alice",
		Password:         "s3cret",
		DialTimeout:      2 * time.Second,
		KeepAliveTime:    30 * time.Second,
		KeepAliveTimeout: 7 * time.Second,
		Prefix:           "app/",
		SessionTTL:       15 * time.Second,
	}
	if !slices.Equal(cfg.Endpoints, want.Endpoints) || cfg.Username != want.Username || cfg.Password != want.Password ||
		cfg.DialTimeout != want.DialTimeout || cfg.KeepAliveTime != want.KeepAliveTime ||
		cfg.KeepAliveTimeout != want.KeepAliveTimeout || cfg.Prefix != want.Prefix || cfg.SessionTTL != want.SessionTTL {
		t.Errorf("ParseURL = %+v, want %+v", cfg, want)
	}

	cfg, err = parse("etcd://h:2379?tls=true")
	if err != nil || !slices.Equal(cfg.Endpoints, []string{"https://h:2379"}) {
		t.Errorf("tls=true: %+v, %v; want an https endpoint", cfg, err)
	}
	cfg, err = parse("etcd://h:2379?ca=/x/ca.pem&cert=/x/c.pem&key=/x/k.pem&server-name=etcd")
	if err != nil || cfg.CAFile != "/x/ca.pem" || cfg.CertFile != "/x/c.pem" || cfg.KeyFile != "/x/k.pem" ||
		cfg.ServerName != "etcd" || !strings.HasPrefix(cfg.Endpoints[0], "https://") {
		t.Errorf("TLS files: %+v, %v", cfg, err)
	}

	for _, bad := range []string{
		"etcd://h:2379?bogus=1",
		"etcd://h:2379?prefix=a&prefix=b",
		"etcd://h:2379?dial-timeout=soon",
		"etcd://h:2379?session-ttl=-1s",
		"etcd://h:2379?tls=maybe",
		"etcd://h:2379?cert=/x/c.pem",
		"etcd://alice@h:2379",
		"etcd://h:2379/path",
		"etcd://h:2379,,h2:2379",
		"etcd:opaque",
		"redis://h:2379",
	} {
		if _, err := parse(bad); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalid", bad, err)
		}
	}
}

// TestOpenURL opens the driver through the registry, as atomix.Open does.
func TestOpenURL(t *testing.T) {
	ctx := testContext(t)
	hosts := strings.Join(testbackend.Etcd(t), ",")
	hosts = strings.ReplaceAll(strings.ReplaceAll(hosts, "http://", ""), "https://", "")
	d, err := driver.Open(ctx, "etcd://"+hosts+"?prefix="+url.QueryEscape(testPrefix(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	c, _ := d.OpenCounter(ctx, driver.ID{Name: "c"})
	if got, err := c.Add(ctx, 3); err != nil || got != 3 {
		t.Errorf("Add through a driver opened by URL = %d, %v", got, err)
	}
	if _, err := driver.Open(ctx, "etcd://"+hosts+"?nope=1"); !errors.Is(err, driver.ErrInvalid) {
		t.Errorf("Open with an unknown parameter: %v, want ErrInvalid", err)
	}
}
