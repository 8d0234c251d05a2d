package redis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbackend.Shutdown()
	if code == 0 {
		// Every driver, watch, session and lock of the tests is closed:
		// nothing of theirs may still run.
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goroutines left behind: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testTTL is the session TTL of the driver-level tests.
const testTTL = time.Second

// newTestDriver returns a driver with a client of its own connected to the
// test server, closed when the test ends.
func newTestDriver(t testing.TB) *Driver {
	t.Helper()
	addr := testbackend.Redis(t)
	d, err := New(&goredis.UniversalOptions{Addrs: []string{addr}, ContextTimeoutEnabled: true}, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = d.Close(ctx)
	})
	return d
}

// testID returns an ID no other test uses.
func testID(t testing.TB, name string) driver.ID {
	return driver.ID{Namespace: "test-" + randomID()[:12], Name: name}
}

// testContext returns a context that ends with the test, or after a minute.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func itoa(n int) string { return strconv.Itoa(n) }

func errOf[T any](_ T, err error) error { return err }

func isKind(err, kind error) bool { return errors.Is(err, kind) }
