package redis

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// TestParseURLPasswordFiles checks password-file and
// sentinel-password-file (the file rules themselves are urlparam's
// SecretFile, tested there): the content is the password, a password given
// twice is ErrInvalid, and no error shows it.
func TestParseURLPasswordFiles(t *testing.T) {
	dir := t.TempDir()
	pw, spw := filepath.Join(dir, "pw"), filepath.Join(dir, "spw")
	for p, content := range map[string]string{pw: "s3cret pw\r\n", spw: "sentinel-pw\n"} {
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	u, _ := url.Parse("redis://user@h?password-file=" + url.QueryEscape(pw) +
		"&sentinel-master=m&sentinel-password-file=" + url.QueryEscape(spw))
	c, _, err := ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != "user" || c.Password != "s3cret pw" || c.SentinelPassword != "sentinel-pw" {
		t.Errorf("user %q, password %q, sentinel password %q", c.Username, c.Password, c.SentinelPassword)
	}
	for _, raw := range []string{
		"redis://u:inurl@h?password-file=" + url.QueryEscape(pw),
		"redis://h?sentinel-password=x&sentinel-password-file=" + url.QueryEscape(spw),
		"redis://h?password-file=" + url.QueryEscape(filepath.Join(dir, "missing")),
	} {
		_, err := parseRaw(t, raw)
		if !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalid", raw, err)
		} else if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "sentinel-pw") {
			t.Errorf("ParseURL(%q): error %q shows the file's content", raw, err)
		}
	}
}

// TestOpenURLPasswordFile authenticates as an ACL user whose password is
// read from a file.
func TestOpenURLPasswordFile(t *testing.T) {
	ctx := testContext(t)
	admin := newTestDriver(t)
	user := "pwfile-" + randomID()[:8]
	if err := admin.client.Do(ctx, "ACL", "SETUSER", user, "on", ">from-file", "~*", "&*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.client.Do(context.Background(), "ACL", "DELUSER", user).Err() })
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := driver.Open(ctx, "redis://"+user+"@"+testbackend.Redis(t)+"?password-file="+url.QueryEscape(p))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	if err := d.Ping(ctx); err != nil {
		t.Fatalf("Ping as %s: %v", user, err)
	}
}
