package urlparam

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atomix/go-client/driver"
)

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct{ content, want string }{
		{"pw\n", "pw"},
		{"pw\r\n", "pw"},
		{"pw", "pw"},
		{" pw \n\n", " pw \n"}, // only one newline is the file's end
	} {
		q, err := Parse("secret=" + url.QueryEscape(write("f", c.content)))
		if err != nil {
			t.Fatal(err)
		}
		if got := q.SecretFile("secret"); got != c.want || q.Done() != nil {
			t.Errorf("SecretFile of %q = %q, %v; want %q", c.content, got, q.Done(), c.want)
		}
	}
	q, _ := Parse("")
	if got := q.SecretFile("secret"); got != "" || q.Done() != nil {
		t.Errorf("absent: %q, %v", got, q.Done())
	}

	big := write("big", strings.Repeat("s3cret", maxSecretFile/6+1))
	for name, path := range map[string]string{
		"empty name": "",
		"missing":    filepath.Join(dir, "missing"),
		"directory":  dir,
		"empty file": write("empty", "\r\n"),
		"too large":  big,
	} {
		q, _ := Parse("secret=" + url.QueryEscape(path))
		q.SecretFile("secret")
		err := q.Done()
		if !errors.Is(err, driver.ErrInvalid) || !strings.Contains(err.Error(), `"secret"`) {
			t.Errorf("%s: %v, want ErrInvalid naming the parameter", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error shows the content", name)
		}
	}
}
