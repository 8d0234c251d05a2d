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
// sentinel-password-file: the content (less one trailing newline) is the
// password, and no error shows it.
func TestParseURLPasswordFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pw := write("pw", "s3cret pw\r\n")
	spw := write("spw", "sentinel-pw\n")
	bare := write("bare", "no-newline ")
	empty := write("empty", "\n")

	u, _ := url.Parse("redis://user@h?password-file=" + url.QueryEscape(pw) +
		"&sentinel-master=m&sentinel-password-file=" + url.QueryEscape(spw))
	c, _, err := ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != "user" || c.Password != "s3cret pw" || c.SentinelPassword != "sentinel-pw" {
		t.Errorf("user %q, password %q, sentinel password %q", c.Username, c.Password, c.SentinelPassword)
	}
	u, _ = url.Parse("redis://h?password-file=" + url.QueryEscape(bare))
	if c, _, err = ParseURL(u); err != nil || c.Password != "no-newline " {
		t.Errorf("password %q, %v; want the content as it is", c.Password, err)
	}

	for _, raw := range []string{
		"redis://u:inurl@h?password-file=" + url.QueryEscape(pw),
		"redis://h?password-file=" + url.QueryEscape(pw) + "&password-file=" + url.QueryEscape(pw),
		"redis://h?password-file=",
		"redis://h?password-file=" + url.QueryEscape(filepath.Join(dir, "missing")),
		"redis://h?password-file=" + url.QueryEscape(empty),
		"redis://h?sentinel-password=x&sentinel-password-file=" + url.QueryEscape(spw),
		"redis://h?sentinel-password-file=" + url.QueryEscape(dir),
		"redis://h?password-file=" + url.QueryEscape(pw) + "&protocol=9",
	} {
		_, err := parseRaw(t, raw)
		if !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalid", raw, err)
			continue
		}
		for _, secret := range []string{"s3cret", "sentinel-pw"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("ParseURL(%q): error %q shows the file's content", raw, err)
			}
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
