package urlparam

import (
	"errors"
	"strings"
	"testing"

	"github.com/atomix/go-client/driver"
)

func TestOneOf(t *testing.T) {
	for raw, want := range map[string]string{"": "", "mode=a": "a", "mode=b": "b"} {
		q, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := q.OneOf("mode", "a", "b"); got != want || q.Done() != nil {
			t.Errorf("%q: OneOf = %q, %v; want %q", raw, got, q.Done(), want)
		}
	}
	for _, raw := range []string{"mode=c", "mode=A", "mode=", "mode=a&mode=a"} {
		q, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		q.OneOf("mode", "a", "b")
		err = q.Done()
		if !errors.Is(err, driver.ErrInvalid) || !strings.Contains(err.Error(), `"mode"`) {
			t.Errorf("%q: Done = %v, want ErrInvalid naming mode", raw, err)
		}
	}
}
