package driver_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/atomix/go-client/driver"
)

// TestOpenDoesNotEchoTheURL checks that a URL driver.Open refuses is not
// repeated in the error: it may carry a password or a token.
func TestOpenDoesNotEchoTheURL(t *testing.T) {
	const secret = "s3cr3tpw"
	for _, raw := range []string{
		"redis://user:" + secret + "/x@host:6379",  // a '/' in the password makes it a "port"
		"redis://user:" + secret + "%zz@host:6379", // a malformed escape
		"consul://host:8500?token=" + secret + "\x7f",
		"nosuchscheme://user:" + secret + "@host",
		"//user:" + secret + "@host",
		"host?token=" + secret,
		":" + secret,
	} {
		_, err := driver.Open(context.Background(), raw)
		if !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("Open(%q): %v, want ErrInvalid", raw, err)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open(%q): error %q echoes the secret", raw, err)
		}
	}
	_, err := driver.Open(context.Background(), "nosuchscheme://h")
	if err == nil || !strings.Contains(err.Error(), `"nosuchscheme"`) {
		t.Errorf("Open with an unknown scheme: %v, want it named", err)
	}
}
