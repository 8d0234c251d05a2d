package redis

import (
	"context"
	"errors"
	"net"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// Lost replies, deadlines and error texts are checked on every driver by
// the conformance suite (Faults, Errors); these tests check what only this
// driver can: which Redis replies map to which kind, and that the go-redis
// or network error behind a kind stays reachable.

func TestServerErrorKinds(t *testing.T) {
	for msg, want := range map[string]error{
		"LOADING Redis is loading":        driver.ErrUnavailable,
		"READONLY You can't write":        driver.ErrUnavailable,
		"CLUSTERDOWN The cluster is down": driver.ErrUnavailable,
		"OOM command not allowed":         driver.ErrUnavailable,
		"MOVED 134 127.0.0.1:45581":       driver.ErrUnavailable,
		"ASK 134 127.0.0.1:45581":         driver.ErrUnavailable,
		"NOPERM no permission":            driver.ErrPermission,
		"WRONGPASS invalid username":      driver.ErrPermission,
		"WRONGTYPE Operation against a key holding the wrong kind of value": driver.ErrInvalid,
		"ERR max number of clients reached":                                 driver.ErrUnavailable,
		"ERR user_script:1: bad":                                            driver.ErrInvalid,
		"ERR The user executing the script can't publish to the channel mentioned in the command script: 9edb, on @user_script:1.": driver.ErrPermission,
	} {
		if got := serverErrorKind(msg); got != want {
			t.Errorf("serverErrorKind(%q) = %v, want %v", msg, got, want)
		}
	}
}

// TestErrorsKeepTheirCause checks the kind of errors from a key of the
// wrong type and from a server that cannot be reached (nothing was sent,
// so a write is not ambiguous), and that errors.As reaches the go-redis or
// network error behind each.
func TestErrorsKeepTheirCause(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	wrong, _ := d.OpenMap(ctx, testID(t, "wrongtype-map"))
	if err := d.client.Set(ctx, wrong.(*redisMap).keys.names[0], "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	u, err := New(&goredis.UniversalOptions{Addrs: []string{"127.0.0.1:" + itoa(testbackend.FreePort(t))}, MaxRetries: -1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close(ctx)
	unreachable, _ := u.OpenMap(ctx, testID(t, "m"))

	var rerr goredis.Error
	var operr *net.OpError
	for _, c := range []struct {
		what   string
		err    error
		kind   error
		target any
	}{
		{"Get of a key of the wrong type", errOf(wrong.Get(ctx, "k")), driver.ErrInvalid, &rerr},
		{"Insert into a key of the wrong type", errOf(wrong.Insert(ctx, "k", []byte("v"))), driver.ErrInvalid, &rerr},
		{"Put to a closed port", errOf(unreachable.Put(ctx, "k", []byte("v"), 0)), driver.ErrUnavailable, &operr},
		{"Get from a closed port", errOf(unreachable.Get(ctx, "k")), driver.ErrUnavailable, &operr},
		{"Ping of a closed port", u.Ping(ctx), driver.ErrUnavailable, &operr},
	} {
		if !errors.Is(c.err, c.kind) || !errors.As(c.err, c.target) {
			t.Errorf("%s: %v; want %v caused by a %T", c.what, c.err, c.kind, c.target)
		}
	}
}

// TestAs checks that As gives the driver's own go-redis client, and that a
// closed driver's Ping is ErrClosed.
func TestAs(t *testing.T) {
	d := newTestDriver(t)
	var c goredis.UniversalClient
	if !d.As(&c) || c != d.client {
		t.Fatal("As(*UniversalClient) did not set the driver's client")
	}
	var other *goredis.Client
	if d.As(&other) || d.As(nil) {
		t.Fatal("As of another type reported true")
	}
	ctx := context.Background()
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Ping(ctx); !errors.Is(err, driver.ErrClosed) {
		t.Fatalf("Ping after Close: %v", err)
	}
}
