package etcd

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// parseRaw parses raw as a URL and then as an etcd URL.
func parseRaw(t *testing.T, raw string) (Config, error) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", raw, err)
	}
	return ParseURL(u)
}

func TestParseURL(t *testing.T) {
	cfg, err := parseRaw(t, "etcd://alice:s3cret@etcd-0:2379,etcd-1,etcd-2:2379?dial-timeout=2s&prefix=app/&keepalive-time=30s&keepalive-timeout=7s")
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
	}
	if !slices.Equal(cfg.Endpoints, want.Endpoints) || cfg.Username != want.Username || cfg.Password != want.Password ||
		cfg.DialTimeout != want.DialTimeout || cfg.KeepAliveTime != want.KeepAliveTime ||
		cfg.KeepAliveTimeout != want.KeepAliveTimeout || cfg.Prefix != want.Prefix || cfg.TLS != nil {
		t.Errorf("ParseURL = %+v, want %+v", cfg, want)
	}

	cfg, err = parseRaw(t, "etcd://h:2379?tls=true")
	if err != nil || !slices.Equal(cfg.Endpoints, []string{"https://h:2379"}) || cfg.TLS == nil {
		t.Errorf("tls=true: %+v, %v; want an https endpoint", cfg, err)
	}
	cfg, err = parseRaw(t, "etcd://h:2379?server-name=etcd&insecure-skip-verify=true")
	if err != nil || cfg.TLS == nil || cfg.TLS.ServerName != "etcd" || !cfg.TLS.InsecureSkipVerify ||
		!strings.HasPrefix(cfg.Endpoints[0], "https://") {
		t.Errorf("TLS parameters: %+v, %v", cfg, err)
	}

	for _, bad := range []string{
		"etcd://h:2379?bogus=1",
		"etcd://h:2379?session-ttl=3s", // atomix.Open reads it; the driver has none
		"etcd://h:2379?prefix=a&prefix=b",
		"etcd://h:2379?prefix=a%zz",
		"etcd://h:2379?prefix=a%",
		"etcd://h:2379?dial-timeout=soon",
		"etcd://h:2379?dial-timeout=-1s",
		"etcd://h:2379?dial-timeout=25h",
		"etcd://h:2379?dial-timeout=NaN",
		"etcd://h:2379?keepalive-time=99999999999999999999h",
		"etcd://h:2379?tls=maybe",
		"etcd://h:2379?tls=false&server-name=x",
		"etcd://h:2379?server-name=x&tls=false",
		"etcd://h:2379?cert-file=/x/c.pem",
		"etcd://h:2379?ca-file=/does/not/exist",
		"etcd://alice@h:2379",
		"etcd://h:2379/path",
		"etcd://h:2379,,h2:2379",
		"etcd:opaque",
		"redis://h:2379",
	} {
		if _, err := parseRaw(t, bad); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalid", bad, err)
		}
	}
}

// TestParseURLHidesSecrets checks that no error shows the password.
func TestParseURLHidesSecrets(t *testing.T) {
	const secret = "pw-0f5e1c"
	for _, raw := range []string{
		"etcd://alice:" + secret + "@h?bogus=" + secret,
		"etcd://alice:" + secret + "@h?prefix=" + secret + "&prefix=" + secret,
		"etcd://alice:" + secret + "@h?prefix=" + secret + "%zz",
		"etcd://alice:" + secret + "@h?dial-timeout=" + secret,
		"etcd://alice:" + secret + "@h?tls=" + secret,
		"etcd://alice:" + secret + "@h/" + secret,
		"etcd://alice:" + secret + "@h,,h",
	} {
		_, err := parseRaw(t, raw)
		if !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalid", raw, err)
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("ParseURL(%q): error %q shows the password", raw, err)
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

// TestParseURLRefusesOutOfRangePorts checks that a port outside 1-65535,
// in any position of the host list, is ErrInvalid naming the host but not
// the password.
func TestParseURLRefusesOutOfRangePorts(t *testing.T) {
	const secret = "pw-51c0de"
	for _, raw := range []string{
		"etcd://alice:" + secret + "@bad-host:0",
		"etcd://alice:" + secret + "@bad-host:65536",
		"etcd://alice:" + secret + "@bad-host:99999,h2:2379",
		"etcd://alice:" + secret + "@h1:2379,bad-host:70000,h3:2379",
		"etcd://alice:" + secret + "@bad-host:x,h2:2379", // url.Parse checks only the last port
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
	cfg, err := parseRaw(t, "etcd://h3,h1:1,h2:65535")
	if want := []string{"http://h3:2379", "http://h1:1", "http://h2:65535"}; err != nil || !slices.Equal(cfg.Endpoints, want) {
		t.Errorf("edge ports: %v, %v; want %v", cfg.Endpoints, err, want)
	}
}

// TestParseURLPasswordFile checks password-file: the file's content, less
// one trailing newline, is the password; a URL that also has a password, a
// missing file or an empty one is ErrInvalid; no error shows the content.
func TestParseURLPasswordFile(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(pw, []byte("s3cret-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("etcd://alice@h:2379?password-file=" + url.QueryEscape(pw))
	cfg, err := ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Username != "alice" || cfg.Password != "s3cret-pw" {
		t.Errorf("user %q, password %q; want alice and the file's content", cfg.Username, cfg.Password)
	}
	for _, raw := range []string{
		"etcd://alice:inurl@h?password-file=" + url.QueryEscape(pw),
		"etcd://alice@h?password-file=",
		"etcd://alice@h?password-file=" + url.QueryEscape(filepath.Join(dir, "missing")),
		"etcd://alice@h?password-file=" + url.QueryEscape(empty),
		"etcd://alice@h?password-file=" + url.QueryEscape(pw) + "&dial-timeout=x",
	} {
		u, _ := url.Parse(raw)
		_, err := ParseURL(u)
		if !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalid", raw, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "inurl") {
			t.Errorf("ParseURL(%q): error %q shows the password", raw, err)
		}
	}
}
